// Request and response bodies of the coordinator API, shared by its clients
// (the CLI and the agent).
import type { HostReportView } from '../model/host-report.js';
import type { App, Host, MachineCreate, Network, Org, Peer } from '../model/types.js';

export type { MachineCreate };

export type TokenScope = 'admin' | 'org' | 'wireguard' | 'host-enroll' | 'reader';

export interface OrgCreated {
  org: Org;
  network: Network;
}
export interface OrgDetail {
  org: Org;
  networks: Network[];
  apps: App[];
}

export interface AppCreate {
  name: string;
  org: string;
  network?: string;
}

export interface HostEnroll {
  region: string;
  endpoint: string;
  public_key: string;
  gateway: boolean;
  version?: string;
}
export interface HostEnrolled {
  host: Host;
  credential: string;
}
/** GET /v1/hosts: a host with its current credential id and whether it is heard from. */
export interface HostListed extends Host {
  credential_id: string | null;
  last_seen: string | null;
  status: 'reachable' | 'unreachable';
  /** its agent's last heartbeat report (handshakes, feed lag); null: never, or an older coordinator */
  report?: HostReportView | null;
}
/** DELETE /v1/hosts/:id */
export interface HostRemoved {
  host: Host;
  removed_peers: Peer[];
  lost_machines: string[];
}

export type MachineReport = 'started' | 'stopped' | 'failed';

export interface PeerCreate {
  name: string;
  region: string;
  public_key: string;
  network?: string;
  app?: string;
  ttl_seconds?: number;
}
/** POST /v1/orgs/:org/peers: what a wg-quick file is made of. */
export interface PeerCreated {
  peer: Peer;
  gateway: { host_id: number; public_key: string; endpoint: string; region: string };
  dns: string;
  allowed_ips: string;
}
export interface PeerListed extends Peer {
  gateway: string | null;
}
/** A gateway's view of one developer peer (PUT /v1/hosts/:id/peer-status). */
export interface PeerStatus {
  org: string;
  name: string;
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string | null;
}
export interface PeerStatusReported extends Omit<PeerStatus, 'org' | 'name'> {
  reported_at: string;
}
export interface PeerDetail {
  peer: Peer;
  status: PeerStatusReported | null;
}

export interface TokenCreate {
  scope: TokenScope;
  org?: string;
  app?: string;
  ttl_seconds?: number;
}
export interface TokenCreated {
  id: string;
  token: string;
  scope: TokenScope;
  org: string | null;
  app: string | null;
  expires_at: string | null;
}
export type { TokenRecord } from '../model/auth.js';
