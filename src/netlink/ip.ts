// Address text <-> bytes and canonical CIDR forms, shared by the netlink
// wrapper, the wg diff (allowed IPs compare as canonical CIDRs) and nft render.
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

export function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

/** Raw network-order bytes of an IPv4/IPv6 address (no prefix length). */
export function ipToBytes(ip: string): Buffer {
  if (familyOf(ip) === 4) {
    if (!Address4.isValid(ip)) throw new Error(`invalid IPv4 address ${ip}`);
    return Buffer.from(ip.split('.').map((x) => Number(x)));
  }
  if (!Address6.isValid(ip)) throw new Error(`invalid IPv6 address ${ip}`);
  const groups = new Address6(ip).canonicalForm().split(':');
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new Error(`address of ${b.length} bytes`);
  const buf = Buffer.from(b);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
  return new Address6(groups.join(':')).correctForm();
}

// The same few addresses are made canonical over and over (every pass diffs
// allowed IPs and checks addresses and routes; every render of the rules): an
// ip-address parse costs microseconds, so answers are kept, oldest dropped
// first past the cap. Invalid input throws and is not kept.
const CANONICAL_CAP = 20_000;
const canonical = new Map<string, string>();

export function canonicalIp(ip: string): string {
  let c = canonical.get(ip);
  if (c === undefined) {
    c = bytesToIp(ipToBytes(ip));
    if (canonical.size >= CANONICAL_CAP) canonical.delete(canonical.keys().next().value!);
    canonical.set(ip, c);
  }
  return c;
}

export interface Cidr {
  ip: string;
  len: number;
  family: Family;
}

export function parseCidr(s: string): Cidr {
  const [ip, lenText] = s.split('/');
  if (!ip) throw new Error(`invalid CIDR ${s}`);
  const family = familyOf(ip);
  const max = family === 4 ? 32 : 128;
  const len = lenText === undefined ? max : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > max) throw new Error(`invalid prefix length in ${s}`);
  return { ip: canonicalIp(ip), len, family };
}

/** Canonical text: compressed address, explicit length, host bits kept as given. */
export function canonicalCidr(s: string): string {
  const c = parseCidr(s);
  return `${c.ip}/${c.len}`;
}
