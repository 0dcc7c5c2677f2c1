// The address plan, pure: no I/O, no randomness except what the caller passes in.
//
// | 16 bits | 32 bits    | 32 bits | 32 bits    | 16 bits |
// | fdaa    | network id | host id | machine id | 0x0002  |
import { Address6 } from 'ip-address';
import { AppError } from '../errors.js';
import { RULES } from '../validate.js';

export const DEFAULT_PREFIX = 0xfdaa;
const U32 = 0xffffffff;
/** Developer peers use machine field 0:<index>; index 0 is never handed out. */
export const MAX_PEER_INDEX = 0xffff;
/** Machine ids: 14 hex chars, first 32 bits are the machine field. */
export const MACHINE_ID_HEX = 14;

export interface ParsedAddress {
  prefix: number;
  networkId: number;
  hostId: number;
  /** the 32-bit machine field (peers: 0x0000iiii) */
  machineField: number;
  /** last 16 bits: 2 machine, 1 host side, 3 DNS (with zero host and machine) */
  suffix: number;
}

function assertU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > U32) throw new AppError('invalid', `${name} ${v} is not a 32-bit unsigned integer`);
}

function hi(v: number): number {
  return (v >>> 16) & 0xffff;
}
function lo(v: number): number {
  return v & 0xffff;
}

/**
 * The compressed (RFC 5952) text form of eight 16-bit groups: lowercase hex
 * without leading zeros, the longest run of two or more zero groups (the
 * first of equals) as `::`. Written out rather than parsed back through
 * ip-address: planners format addresses on every change.
 */
export function formatGroups(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  let run = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (run < 0) run = i;
      continue;
    }
    if (run >= 0 && i - run > bestLen) {
      best = run;
      bestLen = i - run;
    }
    run = -1;
  }
  const hex = groups.map((g) => g.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
const format = formatGroups;

export function networkGroups(networkId: number, prefix = DEFAULT_PREFIX): number[] {
  assertU32('network id', networkId);
  return [prefix, hi(networkId), lo(networkId)];
}

/** fdaa:N:N::/48 */
export function networkPrefix(networkId: number, prefix = DEFAULT_PREFIX): string {
  return `${format([...networkGroups(networkId, prefix), 0, 0, 0, 0, 0])}/48`;
}

/** fdaa:N:N::3, the network's DNS server */
export function networkDnsAddress(networkId: number, prefix = DEFAULT_PREFIX): string {
  return format([...networkGroups(networkId, prefix), 0, 0, 0, 0, 3]);
}

/** fdaa:N:N:H:H::/80, a host's share of a network */
export function hostPrefix(networkId: number, hostId: number, prefix = DEFAULT_PREFIX): string {
  assertU32('host id', hostId);
  return `${format([...networkGroups(networkId, prefix), hi(hostId), lo(hostId), 0, 0, 0])}/80`;
}

function machineGroups(networkId: number, hostId: number, machineField: number, prefix: number): number[] {
  assertU32('host id', hostId);
  assertU32('machine field', machineField);
  return [...networkGroups(networkId, prefix), hi(hostId), lo(hostId), hi(machineField), lo(machineField)];
}

/** The machine's address, ending in :2 */
export function machineAddress(networkId: number, hostId: number, machineField: number, prefix = DEFAULT_PREFIX): string {
  return format([...machineGroups(networkId, hostId, machineField, prefix), 2]);
}

/** The host side of a machine's /112, ending in :1 */
export function machineGatewayAddress(networkId: number, hostId: number, machineField: number, prefix = DEFAULT_PREFIX): string {
  return format([...machineGroups(networkId, hostId, machineField, prefix), 1]);
}

/** The machine's /112 subnet */
export function machineSubnet(networkId: number, hostId: number, machineField: number, prefix = DEFAULT_PREFIX): string {
  return `${format([...machineGroups(networkId, hostId, machineField, prefix), 0])}/112`;
}

export function peerAddress(networkId: number, gatewayHostId: number, peerIndex: number, prefix = DEFAULT_PREFIX): string {
  assertPeerIndex(peerIndex);
  return machineAddress(networkId, gatewayHostId, peerIndex, prefix);
}

function assertPeerIndex(i: number): void {
  if (!Number.isInteger(i) || i < 1 || i > MAX_PEER_INDEX) throw new AppError('invalid', `peer index ${i} outside 1..${MAX_PEER_INDEX}`);
}

/** Machine field (first 32 bits) of a machine id. */
export function machineFieldOf(machineId: string): number {
  if (!isMachineId(machineId)) throw new AppError('invalid', `machine id ${JSON.stringify(machineId)} is not ${MACHINE_ID_HEX} hex chars`);
  return parseInt(machineId.slice(0, 8), 16) >>> 0;
}

/** A machine id (validate.ts's rule) outside the developer peers' 0000 range. */
export function isMachineId(s: string): boolean {
  return RULES.machineId.test(s) && !s.startsWith('0000');
}

/**
 * Pick a machine id whose first 32 bits are not used on the host and do not
 * start with 0000 (that range belongs to developer peers). `randomHex` yields
 * 14 random hex chars; after `attempts` collisions the host is treated as full.
 */
export function allocateMachineId(used: (field: number) => boolean, randomHex: () => string, attempts = 64): string {
  for (let i = 0; i < attempts; i++) {
    const id = randomHex().toLowerCase();
    if (!isMachineId(id)) continue;
    if (!used(machineFieldOf(id))) return id;
  }
  throw new AppError('host_full', `no free machine address on this host after ${attempts} attempts`);
}

/** Lowest free peer index (1..65535) under a gateway host in one network. */
export function allocatePeerIndex(used: ReadonlySet<number>): number {
  for (let i = 1; i <= MAX_PEER_INDEX; i++) if (!used.has(i)) return i;
  throw new AppError('host_full', `gateway has no free developer-peer index (all ${MAX_PEER_INDEX} in use)`);
}

/** Next sequential 32-bit id (network ids, host ids); never wraps. */
export function nextSequentialId(last: number, what: string): number {
  const next = last + 1;
  if (next > U32) throw new AppError('exhausted', `${what} ids exhausted (${U32} allocated)`);
  return next;
}

/** Parse an address into its plan fields; null when it is not an IPv6 address in the prefix. */
export function parseAddress(addr: string, prefix = DEFAULT_PREFIX): ParsedAddress | null {
  if (!Address6.isValid(addr)) return null;
  let a: Address6;
  try {
    a = new Address6(addr);
  } catch {
    return null;
  }
  const g = a.parsedAddress.map((x) => parseInt(x || '0', 16));
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) return null;
  if (g[0] !== prefix) return null;
  return {
    prefix: g[0]!,
    networkId: ((g[1]! << 16) | g[2]!) >>> 0,
    hostId: ((g[3]! << 16) | g[4]!) >>> 0,
    machineField: ((g[5]! << 16) | g[6]!) >>> 0,
    suffix: g[7]!,
  };
}
