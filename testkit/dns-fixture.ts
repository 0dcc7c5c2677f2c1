// A small multi-org state for DNS tests: two orgs, a custom network, three
// hosts in three regions, machines in every state, peers (one standing in as
// an app instance).
import { machineAddress, peerAddress } from '../src/addr/plan.js';
import { Replica } from '../src/feed/replica.js';
import { REGIONS } from '../src/model/regions.js';
import type { App, Host, Machine, MachineState, Network, Org, Peer, State } from '../src/model/types.js';

export const NET_ACME = 1;
export const NET_GLOBEX = 2;
export const NET_ACME_STAGING = 3;
export const HOST_IAD = 0x0a7b007d;
export const HOST_AMS = 2;
export const HOST_SYD = 3;

const AT = '2025-01-01T00:00:00.000Z';
const REGION_OF: Record<number, string> = { [HOST_IAD]: 'iad', [HOST_AMS]: 'ams', [HOST_SYD]: 'syd' };

export function machine(id: string, app: string, networkId: number, hostId: number, state: MachineState, extra: Partial<Machine> = {}): Machine {
  return {
    id,
    app,
    org: networkId === NET_GLOBEX ? 'globex' : 'acme',
    network_id: networkId,
    host_id: hostId,
    region: REGION_OF[hostId] ?? 'iad',
    address: machineAddress(networkId, hostId, parseInt(id.slice(0, 8), 16)),
    state,
    reason: null,
    group: 'app',
    metadata: {},
    command: null,
    created_at: AT,
    updated_at: AT,
    ...extra,
  };
}

export function peer(name: string, org: string, networkId: number, index: number, app: string | null, region = 'iad'): Peer {
  return {
    org,
    name,
    network_id: networkId,
    host_id: HOST_IAD,
    region,
    index,
    address: peerAddress(networkId, HOST_IAD, index),
    public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=',
    app,
    created_at: AT,
  };
}

// web (acme): two started (iad, ams), one stopped (syd), one started in syd with metadata
export const WEB_IAD = machine('f066b83b000001', 'web', NET_ACME, HOST_IAD, 'started');
export const WEB_AMS = machine('a1b2c3d4000002', 'web', NET_ACME, HOST_AMS, 'started', { group: 'worker' });
export const WEB_SYD_STOPPED = machine('5ca1ab1e000003', 'web', NET_ACME, HOST_SYD, 'stopped');
export const WEB_SYD = machine('d00dfeed000004', 'web', NET_ACME, HOST_SYD, 'started', { metadata: { role: 'primary' } });
export const DB_1 = machine('db000001aaaaaa', 'db', NET_ACME, HOST_IAD, 'started', { metadata: { role: 'primary' } });
export const DB_2 = machine('db000002bbbbbb', 'db', NET_ACME, HOST_AMS, 'started', { metadata: { role: 'replica' } });
export const DB_FAILED = machine('db000003cccccc', 'db', NET_ACME, HOST_SYD, 'failed');
// globex has its own `api` and also an app called `web2`
export const API_1 = machine('abcdef01000005', 'api', NET_GLOBEX, HOST_IAD, 'started');
export const WEB2_1 = machine('abcdef02000006', 'web2', NET_GLOBEX, HOST_AMS, 'started');
// acme's custom network
export const STG_1 = machine('5739e000000007', 'stg', NET_ACME_STAGING, HOST_IAD, 'started');

export const LAPTOP = peer('laptop', 'acme', NET_ACME, 10, null);
export const EXT = peer('ext1', 'acme', NET_ACME, 11, 'web', 'ord');
export const GLOBEX_LAPTOP = peer('laptop', 'globex', NET_GLOBEX, 10, null);

export function dnsFixtureState(): State {
  const orgs: Org[] = [
    { name: 'acme', network_id: NET_ACME, created_at: AT },
    { name: 'globex', network_id: NET_GLOBEX, created_at: AT },
  ];
  const networks: Network[] = [
    { id: NET_ACME, org: 'acme', name: 'default', created_at: AT },
    { id: NET_GLOBEX, org: 'globex', name: 'default', created_at: AT },
    { id: NET_ACME_STAGING, org: 'acme', name: 'staging', created_at: AT },
  ];
  const apps: App[] = [
    { name: 'web', org: 'acme', network_id: NET_ACME, created_at: AT },
    { name: 'db', org: 'acme', network_id: NET_ACME, created_at: AT },
    { name: 'empty', org: 'acme', network_id: NET_ACME, created_at: AT },
    { name: 'api', org: 'globex', network_id: NET_GLOBEX, created_at: AT },
    { name: 'web2', org: 'globex', network_id: NET_GLOBEX, created_at: AT },
    { name: 'stg', org: 'acme', network_id: NET_ACME_STAGING, created_at: AT },
  ];
  const hosts: Host[] = [HOST_IAD, HOST_AMS, HOST_SYD].map((id, i) => ({
    id,
    region: REGION_OF[id]!,
    endpoint: `192.0.2.${i + 1}:51820`,
    public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=',
    gateway: i === 0,
    created_at: AT,
  }));
  return {
    regions: [...REGIONS],
    orgs,
    networks,
    apps,
    hosts,
    machines: [WEB_IAD, WEB_AMS, WEB_SYD_STOPPED, WEB_SYD, DB_1, DB_2, DB_FAILED, API_1, WEB2_1, STG_1].map((m) => ({ ...m })),
    peers: [LAPTOP, EXT, GLOBEX_LAPTOP].map((p) => ({ ...p })),
  };
}

export function fixtureReplica(rev = 100): Replica {
  const r = new Replica();
  r.applySnapshot(rev, dnsFixtureState());
  return r;
}

/** A querier source address inside a network, on a host (host side `:1` of a machine subnet). */
export function querierAddress(networkId: number, hostId: number, field = 0x12345678): string {
  return machineAddress(networkId, hostId, field);
}

/** Deterministic PRNG (mulberry32), so a failing random case can be replayed. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
