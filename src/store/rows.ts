// Row <-> record mapping, shared by every backend.
import type { App, Host, Machine, MachineState, Network, Org, Peer, Region } from '../model/types.js';

export interface MachineRow {
  id: string; app: string; org: string; network_id: number | string; host_id: number | string; machine_field: number | string;
  region: string; address: string; state: string; reason: string | null; grp: string; metadata: string; command: string | null;
  created_at: string; updated_at: string;
}
export interface HostRow { id: number | string; region: string; endpoint: string; public_key: string; gateway: number | string; created_at: string }
export interface PeerRow {
  org: string; name: string; network_id: number | string; host_id: number | string; region: string; idx: number | string;
  address: string; public_key: string; app: string | null; created_at: string;
}
export interface OrgRow { name: string; network_id: number | string; created_at: string }
export interface NetworkRow { id: number | string; org: string; name: string; created_at: string }
export interface AppRow { name: string; org: string; network_id: number | string; created_at: string }
export interface RegionRow { code: string; name: string; latitude: number | string; longitude: number | string }

// PostgreSQL returns BIGINT as strings; every id here fits in 32 bits.
const n = (v: number | string): number => Number(v);

export const toOrg = (r: OrgRow): Org => ({ name: r.name, network_id: n(r.network_id), created_at: r.created_at });
export const toNetwork = (r: NetworkRow): Network => ({ id: n(r.id), org: r.org, name: r.name, created_at: r.created_at });
export const toApp = (r: AppRow): App => ({ name: r.name, org: r.org, network_id: n(r.network_id), created_at: r.created_at });
export const toRegion = (r: RegionRow): Region => ({ code: r.code, name: r.name, latitude: n(r.latitude), longitude: n(r.longitude) });
export const toHost = (r: HostRow): Host => ({
  id: n(r.id), region: r.region, endpoint: r.endpoint, public_key: r.public_key, gateway: n(r.gateway) === 1, created_at: r.created_at,
});
export const toMachine = (r: MachineRow): Machine => ({
  id: r.id, app: r.app, org: r.org, network_id: n(r.network_id), host_id: n(r.host_id), region: r.region, address: r.address,
  state: r.state as MachineState, reason: r.reason, group: r.grp, metadata: JSON.parse(r.metadata) as Record<string, string>,
  command: r.command === null ? null : (JSON.parse(r.command) as string[]), created_at: r.created_at, updated_at: r.updated_at,
});
export const toPeer = (r: PeerRow): Peer => ({
  org: r.org, name: r.name, network_id: n(r.network_id), host_id: n(r.host_id), region: r.region, index: n(r.idx),
  address: r.address, public_key: r.public_key, app: r.app, created_at: r.created_at,
});
