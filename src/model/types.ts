// The records that flow from the store to every consumer (API, change feed,
// DNS replica, agent). One declared shape, shared by all of them.

/** `lost`: its host was removed (it is out of DNS and every host's routes; it can only be destroyed) */
export type MachineState = 'created' | 'started' | 'stopped' | 'destroyed' | 'failed' | 'lost';

export interface Region {
  code: string;
  name: string;
  latitude: number;
  longitude: number;
}

export interface Org {
  name: string;
  /** network id of the org's default network */
  network_id: number;
  created_at: string;
}

export interface Network {
  /** 32-bit network id; fdaa:N:N::/48 */
  id: number;
  org: string;
  /** 'default' for the org's own network, else the custom network's name */
  name: string;
  created_at: string;
}

export interface App {
  name: string;
  org: string;
  network_id: number;
  created_at: string;
}

export interface Host {
  /** 32-bit host id */
  id: number;
  region: string;
  /** HOST:PORT where other hosts and peers reach its WireGuard port */
  endpoint: string;
  public_key: string;
  gateway: boolean;
  /** the sixpn version its agent last reported (null before any report; absent in records saved by older versions) */
  version?: string | null;
  created_at: string;
}

export interface Machine {
  /** 14 lowercase hex chars */
  id: string;
  app: string;
  org: string;
  network_id: number;
  host_id: number;
  region: string;
  address: string;
  state: MachineState;
  /** why the host could not realize the machine (state failed) */
  reason: string | null;
  group: string;
  metadata: Record<string, string>;
  /** argv for `machines run`; the host's agent runs it inside the machine */
  command: string[] | null;
  created_at: string;
  updated_at: string;
  /** when its host last reported it attached (null until then, and again after a stop; absent in older records) */
  attached_at?: string | null;
  /** health checks its host runs (absent in records of older versions: none) */
  checks?: MachineCheck[];
  /** seconds between check rounds */
  check_interval?: number;
  /** `passing`, `critical` or `none` (no checks); critical machines leave DNS but for the `all.` forms */
  health?: MachineHealth;
  /** named service ports (SRV records) */
  ports?: MachinePort[];
  /** names of the app-wide leases it holds */
  leases?: string[];
  /** grows with every metadata write: the `If-Match` of conditional metadata writes */
  metadata_rev?: number;
}

export type MachineHealth = 'passing' | 'critical' | 'none';
export type MachineCheck = { type: 'tcp'; port: number } | { type: 'http'; port: number; path: string };
export interface MachinePort {
  name: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/** An app-wide lease: at most one holder; `fence` grows with every new holder. */
export interface Lease {
  app: string;
  name: string;
  /** machine id, null when free */
  holder: string | null;
  expires_at: string | null;
  fence: number;
}

export interface Peer {
  org: string;
  name: string;
  network_id: number;
  /** gateway host carrying the peer */
  host_id: number;
  region: string;
  /** peer index under its gateway host (machine field 0:<index>) */
  index: number;
  address: string;
  public_key: string;
  /** when set, the peer is also an instance of this app (external node) */
  app: string | null;
  created_at: string;
  /** an ephemeral peer (wireguard create --ttl): removed from the feed at this time */
  expires_at?: string | null;
}

/** The whole replicated state: what a snapshot carries. Tokens never leave the store. */
export interface State {
  regions: Region[];
  orgs: Org[];
  networks: Network[];
  apps: App[];
  hosts: Host[];
  machines: Machine[];
  peers: Peer[];
}

export type EntityKind = 'org' | 'network' | 'app' | 'host' | 'machine' | 'peer';

/** One entity changed. `upsert` carries the full new record; `delete` the key only. */
export type ChangeOp =
  | { entity: 'org'; op: 'upsert'; data: Org }
  | { entity: 'network'; op: 'upsert'; data: Network }
  | { entity: 'app'; op: 'upsert'; data: App }
  | { entity: 'host'; op: 'upsert'; data: Host }
  | { entity: 'machine'; op: 'upsert'; data: Machine }
  | { entity: 'peer'; op: 'upsert'; data: Peer }
  | { entity: EntityKind; op: 'delete'; key: string };

/** One write = one revision = one change record with one or more ops. */
export interface ChangeRecord {
  rev: number;
  at: string;
  ops: ChangeOp[];
}

/**
 * Version of the watch stream's format, on its snapshot line. A newer
 * coordinator may add entity kinds, ops and message types: replicas skip
 * what they do not know; a change that old replicas must not skip bumps it.
 * 2: the snapshot comes as snapshot_begin, snapshot_rows..., snapshot_end.
 * 3: a host credential's stream carries only the orgs the host runs
 *    (coordinator/host-scope.ts): changes may skip revisions, and a
 *    heartbeat's revision is one the client has everything up to.
 * A client asks for its version in the `sixpn-feed-proto` request header;
 * one that does not gets version 1 (one `snapshot` line).
 */
export const FEED_PROTO = 3;

export const ENTITY_KINDS: readonly EntityKind[] = ['org', 'network', 'app', 'host', 'machine', 'peer'];

/** Lines of the `GET /v1/watch` NDJSON stream. */
export type FeedMessage =
  | { type: 'snapshot'; proto?: number; rev: number; state: State }
  | { type: 'change'; rev: number; at: string; ops: ChangeOp[] }
  | { type: 'heartbeat'; rev: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'bye'; rev: number; reason: string }
  | { type: 'snapshot_begin'; proto: number; rev: number }
  | { type: 'snapshot_rows'; kind: keyof State; rows: unknown[] }
  | { type: 'snapshot_end'; rev: number; rows: number };

/** Out of the mesh and of every replica: destroyed, or lost with its removed host. */
export function machineGone(m: Pick<Machine, 'state'>): boolean {
  return m.state === 'destroyed' || m.state === 'lost';
}

/** Key of an entity as used by `delete` ops and replica maps. */
export function entityKey(kind: EntityKind, data: Org | Network | App | Host | Machine | Peer): string {
  switch (kind) {
    case 'org':
      return (data as Org).name;
    case 'network':
      return String((data as Network).id);
    case 'app':
      return (data as App).name;
    case 'host':
      return String((data as Host).id);
    case 'machine':
      return (data as Machine).id;
    case 'peer': {
      const p = data as Peer;
      return `${p.org}/${p.name}`;
    }
  }
}

/** POST /v1/machines: what the API takes (the route parses checks and ports; the CLI sends them). */
export interface MachineCreate {
  app: string;
  region: string;
  group?: string;
  metadata?: Record<string, string>;
  stopped?: boolean;
  command?: string[];
  /** `tcp:PORT` or `http:PORT/PATH` */
  checks?: string[];
  /** seconds */
  check_interval?: number;
  /** `NAME:PORT[/tcp|/udp]` */
  ports?: string[];
}
