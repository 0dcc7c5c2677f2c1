// The store's domain layer: every write validates, allocates, bumps the one
// global revision and appends its change record in the same transaction.
// It runs on any SqlBackend (SQLite embedded, PostgreSQL for several coordinators).
import { createHash, randomBytes } from 'node:crypto';
import {
  allocateMachineId, allocatePeerIndex, machineAddress, machineFieldOf, nextSequentialId, peerAddress,
} from '../addr/plan.js';
import { AppError, conflict, notFound } from '../errors.js';
import { REGIONS, regionDistanceKm } from '../model/regions.js';
import type { App, ChangeOp, ChangeRecord, Host, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import {
  toApp, toHost, toMachine, toNetwork, toOrg, toPeer, toRegion,
  type AppRow, type HostRow, type MachineRow, type NetworkRow, type OrgRow, type PeerRow, type RegionRow,
} from './rows.js';
import { MIGRATIONS } from './schema.js';
import { appUpserted, hostUpserted, machineUpserted, networkUpserted, orgUpserted, peerDeleted, peerUpserted } from '../model/changes.js';
import type { SqlBackend, Tx } from './sql.js';

export type Scope = 'admin' | 'org' | 'wireguard' | 'host-enroll' | 'reader' | 'host';
export const SCOPES: readonly Scope[] = ['admin', 'org', 'wireguard', 'host-enroll', 'reader', 'host'];

export interface TokenInfo { id: string; scope: Scope; org: string | null; host_id: number | null }

export interface PeerStatus {
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string | null;
  reported_at: string;
}

export interface CreateMachineInput {
  app: string;
  region: string;
  group?: string;
  metadata?: Record<string, string>;
  stopped?: boolean;
  command?: string[] | null;
}

export interface CreatePeerInput {
  org: string;
  name: string;
  region: string;
  public_key: string;
  network?: string;
  app?: string | null;
}

export interface StoreOptions {
  /** change records kept for resuming watchers; older ones need a snapshot */
  keepChanges?: number;
  /** source of randomness for machine ids (tests pin it) */
  randomHex?: () => string;
}

const MACHINE_COLS = 'id, app, org, network_id, host_id, machine_field, region, address, state, reason, grp, metadata, command, created_at, updated_at';
const PEER_COLS = 'org, name, network_id, host_id, region, idx, address, public_key, app, created_at';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function now(): string {
  return new Date().toISOString();
}

export class Store {
  private readonly keepChanges: number;
  private readonly randomHex: () => string;

  private constructor(readonly backend: SqlBackend, opts: StoreOptions) {
    this.keepChanges = opts.keepChanges ?? 100_000;
    this.randomHex = opts.randomHex ?? (() => randomBytes(7).toString('hex'));
  }

  static async open(backend: SqlBackend, opts: StoreOptions = {}): Promise<Store> {
    await backend.migrate(MIGRATIONS);
    const store = new Store(backend, opts);
    await store.seedRegions();
    return store;
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  /** Called after every commit (this process's or, on PostgreSQL, another coordinator's). */
  onCommit(listener: () => void): () => void {
    return this.backend.onCommit(listener);
  }

  private async seedRegions(): Promise<void> {
    await this.backend.write(async (tx) => {
      for (const r of REGIONS) {
        await tx.run(
          `INSERT INTO regions (code, name, latitude, longitude) VALUES (?, ?, ?, ?)
           ON CONFLICT (code) DO UPDATE SET name = excluded.name, latitude = excluded.latitude, longitude = excluded.longitude`,
          [r.code, r.name, r.latitude, r.longitude],
        );
      }
    });
  }

  // ── revision and change feed ─────────────────────────────────────────────

  /** Bump the revision and append the change record, inside the caller's transaction. */
  private async commitChange(tx: Tx, ops: ChangeOp[]): Promise<number> {
    const row = await tx.get<{ rev: number | string }>('UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev');
    const rev = Number(row!.rev);
    await tx.run('INSERT INTO changes (rev, at, ops) VALUES (?, ?, ?)', [rev, now(), JSON.stringify(ops)]);
    if (rev % Math.min(1000, this.keepChanges) === 0) await tx.run('DELETE FROM changes WHERE rev <= ?', [rev - this.keepChanges]);
    return rev;
  }

  async rev(): Promise<number> {
    return this.backend.read(async (tx) => Number((await tx.get<{ rev: number }>('SELECT rev FROM revision WHERE id = 1'))!.rev));
  }

  /** Lowest revision a watcher may resume after without a snapshot. */
  async oldestResumableRev(): Promise<number> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<{ m: number | null }>('SELECT MIN(rev) AS m FROM changes');
      const head = Number((await tx.get<{ rev: number }>('SELECT rev FROM revision WHERE id = 1'))!.rev);
      return r?.m == null ? head : Number(r.m) - 1;
    });
  }

  async changesSince(rev: number, limit = 1000): Promise<ChangeRecord[]> {
    return this.backend.read(async (tx) => {
      const rows = await tx.all<{ rev: number | string; at: string; ops: string }>(
        'SELECT rev, at, ops FROM changes WHERE rev > ? ORDER BY rev LIMIT ?', [rev, limit]);
      return rows.map((r) => ({ rev: Number(r.rev), at: r.at, ops: JSON.parse(r.ops) as ChangeOp[] }));
    });
  }

  async snapshot(): Promise<{ rev: number; state: State }> {
    return this.backend.read(async (tx) => {
      const rev = Number((await tx.get<{ rev: number }>('SELECT rev FROM revision WHERE id = 1'))!.rev);
      const state: State = {
        regions: (await tx.all<RegionRow>('SELECT * FROM regions ORDER BY code')).map(toRegion),
        orgs: (await tx.all<OrgRow>('SELECT * FROM orgs ORDER BY name')).map(toOrg),
        networks: (await tx.all<NetworkRow>('SELECT * FROM networks ORDER BY id')).map(toNetwork),
        apps: (await tx.all<AppRow>('SELECT * FROM apps ORDER BY name')).map(toApp),
        hosts: (await tx.all<HostRow>('SELECT * FROM hosts ORDER BY id')).map(toHost),
        machines: (await tx.all<MachineRow>(`SELECT ${MACHINE_COLS} FROM machines WHERE state <> 'destroyed' ORDER BY id`)).map(toMachine),
        peers: (await tx.all<PeerRow>(`SELECT ${PEER_COLS} FROM peers ORDER BY org, name`)).map(toPeer),
      };
      return { rev, state };
    });
  }

  // ── regions ──────────────────────────────────────────────────────────────

  async listRegions(): Promise<Region[]> {
    return this.backend.read(async (tx) => (await tx.all<RegionRow>('SELECT * FROM regions ORDER BY code')).map(toRegion));
  }

  private async region(tx: Tx, code: string): Promise<Region> {
    const r = await tx.get<RegionRow>('SELECT * FROM regions WHERE code = ?', [code]);
    if (!r) throw new AppError('invalid', `unknown region ${JSON.stringify(code)}`);
    return toRegion(r);
  }

  // ── orgs and networks ────────────────────────────────────────────────────

  /** Atomic increment (safe with several coordinators); never wraps. */
  private async nextId(tx: Tx, seq: 'network' | 'host'): Promise<number> {
    const row = await tx.get<{ last: number | string }>('UPDATE sequences SET last = last + 1 WHERE name = ? RETURNING last', [seq]);
    return nextSequentialId(Number(row!.last) - 1, seq);
  }

  private allocateNetworkId(tx: Tx): Promise<number> {
    return this.nextId(tx, 'network');
  }

  async createOrg(name: string): Promise<{ org: Org; network: Network }> {
    return this.backend.write(async (tx) => {
      if (await tx.get('SELECT 1 FROM orgs WHERE name = ?', [name])) throw conflict('org', name);
      const id = await this.allocateNetworkId(tx);
      const at = now();
      const org: Org = { name, network_id: id, created_at: at };
      const network: Network = { id, org: name, name: 'default', created_at: at };
      await tx.run('INSERT INTO orgs (name, network_id, created_at) VALUES (?, ?, ?)', [name, id, at]);
      await tx.run('INSERT INTO networks (id, org, name, created_at) VALUES (?, ?, ?, ?)', [id, name, 'default', at]);
      await this.commitChange(tx, [orgUpserted(org), networkUpserted(network)]);
      return { org, network };
    });
  }

  /** Create the org unless it exists (used by `sixpn up` for its default org). */
  async ensureOrg(name: string): Promise<Org> {
    const existing = await this.findOrg(name);
    return existing ?? (await this.createOrg(name)).org;
  }

  async findOrg(name: string): Promise<Org | null> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<OrgRow>('SELECT * FROM orgs WHERE name = ?', [name]);
      return r ? toOrg(r) : null;
    });
  }

  async getOrg(name: string): Promise<Org> {
    const org = await this.findOrg(name);
    if (!org) throw notFound('org', name);
    return org;
  }

  async listOrgs(): Promise<Org[]> {
    return this.backend.read(async (tx) => (await tx.all<OrgRow>('SELECT * FROM orgs ORDER BY name')).map(toOrg));
  }

  async createNetwork(org: string, name: string): Promise<Network> {
    return this.backend.write(async (tx) => {
      if (!(await tx.get('SELECT 1 FROM orgs WHERE name = ?', [org]))) throw notFound('org', org);
      if (await tx.get('SELECT 1 FROM networks WHERE org = ? AND name = ?', [org, name])) throw conflict('network', `${org}/${name}`);
      const id = await this.allocateNetworkId(tx);
      const network: Network = { id, org, name, created_at: now() };
      await tx.run('INSERT INTO networks (id, org, name, created_at) VALUES (?, ?, ?, ?)', [id, org, name, network.created_at]);
      await this.commitChange(tx, [networkUpserted(network)]);
      return network;
    });
  }

  async listNetworks(org: string): Promise<Network[]> {
    return this.backend.read(async (tx) =>
      (await tx.all<NetworkRow>('SELECT * FROM networks WHERE org = ? ORDER BY id', [org])).map(toNetwork));
  }

  private async networkByName(tx: Tx, org: string, name: string): Promise<Network> {
    const r = await tx.get<NetworkRow>('SELECT * FROM networks WHERE org = ? AND name = ?', [org, name]);
    if (!r) throw notFound('network', `${org}/${name}`);
    return toNetwork(r);
  }

  // ── apps ─────────────────────────────────────────────────────────────────

  /** Create an app in the org's default network, or in a custom one (created on first use). */
  async createApp(input: { name: string; org: string; network?: string }): Promise<App> {
    return this.backend.write(async (tx) => {
      if (!(await tx.get('SELECT 1 FROM orgs WHERE name = ?', [input.org]))) throw notFound('org', input.org);
      if (await tx.get('SELECT 1 FROM apps WHERE name = ?', [input.name])) throw conflict('app', input.name);
      const ops: ChangeOp[] = [];
      const netName = input.network ?? 'default';
      let netRow = await tx.get<NetworkRow>('SELECT * FROM networks WHERE org = ? AND name = ?', [input.org, netName]);
      if (!netRow) {
        const id = await this.allocateNetworkId(tx);
        const network: Network = { id, org: input.org, name: netName, created_at: now() };
        await tx.run('INSERT INTO networks (id, org, name, created_at) VALUES (?, ?, ?, ?)', [id, input.org, netName, network.created_at]);
        ops.push(networkUpserted(network));
        netRow = { id, org: input.org, name: netName, created_at: network.created_at };
      }
      const app: App = { name: input.name, org: input.org, network_id: Number(netRow.id), created_at: now() };
      await tx.run('INSERT INTO apps (name, org, network_id, created_at) VALUES (?, ?, ?, ?)', [app.name, app.org, app.network_id, app.created_at]);
      ops.push(appUpserted(app));
      await this.commitChange(tx, ops);
      return app;
    });
  }

  async getApp(name: string): Promise<App> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<AppRow>('SELECT * FROM apps WHERE name = ?', [name]);
      if (!r) throw notFound('app', name);
      return toApp(r);
    });
  }

  async listApps(org?: string): Promise<App[]> {
    return this.backend.read(async (tx) => (org === undefined
      ? await tx.all<AppRow>('SELECT * FROM apps ORDER BY name')
      : await tx.all<AppRow>('SELECT * FROM apps WHERE org = ? ORDER BY name', [org])).map(toApp));
  }

  // ── hosts ────────────────────────────────────────────────────────────────

  async enrollHost(input: { region: string; endpoint: string; public_key: string; gateway: boolean }): Promise<Host> {
    return this.backend.write(async (tx) => {
      await this.region(tx, input.region);
      if (await tx.get('SELECT 1 FROM hosts WHERE public_key = ?', [input.public_key])) {
        throw new AppError('conflict', 'a host with this public key is already enrolled');
      }
      const id = await this.nextId(tx, 'host');
      const host: Host = { id, region: input.region, endpoint: input.endpoint, public_key: input.public_key, gateway: input.gateway, created_at: now() };
      await tx.run('INSERT INTO hosts (id, region, endpoint, public_key, gateway, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [id, host.region, host.endpoint, host.public_key, host.gateway ? 1 : 0, host.created_at]);
      await this.commitChange(tx, [hostUpserted(host)]);
      return host;
    });
  }

  async updateHost(id: number, patch: { endpoint?: string; gateway?: boolean }): Promise<Host> {
    return this.backend.write(async (tx) => {
      const r = await tx.get<HostRow>('SELECT * FROM hosts WHERE id = ?', [id]);
      if (!r) throw notFound('host', id);
      const host = { ...toHost(r), ...patch };
      await tx.run('UPDATE hosts SET endpoint = ?, gateway = ? WHERE id = ?', [host.endpoint, host.gateway ? 1 : 0, id]);
      await this.commitChange(tx, [hostUpserted(host)]);
      return host;
    });
  }

  async getHost(id: number): Promise<Host> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<HostRow>('SELECT * FROM hosts WHERE id = ?', [id]);
      if (!r) throw notFound('host', id);
      return toHost(r);
    });
  }

  async listHosts(): Promise<Host[]> {
    return this.backend.read(async (tx) => (await tx.all<HostRow>('SELECT * FROM hosts ORDER BY id')).map(toHost));
  }

  // ── machines ─────────────────────────────────────────────────────────────

  async createMachine(input: CreateMachineInput): Promise<Machine> {
    return this.backend.write(async (tx) => {
      const appRow = await tx.get<AppRow>('SELECT * FROM apps WHERE name = ?', [input.app]);
      if (!appRow) throw notFound('app', input.app);
      const app = toApp(appRow);
      await this.region(tx, input.region);
      // Least-loaded host of the region (live machines), lowest id on ties.
      const host = await tx.get<{ id: number | string }>(
        'SELECT id FROM hosts WHERE region = ? ORDER BY machine_count, id LIMIT 1', [input.region]);
      if (!host) throw new AppError('no_host', `no host in region ${input.region} to place the machine on`);
      const hostId = Number(host.id);
      // Random 32-bit machine fields collide rarely; retry a few times, then call the host full.
      const usedFields = new Set<number>();
      let id = '';
      for (let attempt = 0; attempt < 16 && !id; attempt++) {
        const candidate = allocateMachineId((f) => usedFields.has(f), this.randomHex);
        const field = machineFieldOf(candidate);
        const taken = await tx.get('SELECT 1 FROM machines WHERE (host_id = ? AND machine_field = ?) OR id = ?', [hostId, field, candidate]);
        if (taken) usedFields.add(field);
        else id = candidate;
      }
      if (!id) throw new AppError('host_full', `host ${hostId} has no free machine address`);
      const field = machineFieldOf(id);
      const at = now();
      const machine: Machine = {
        id, app: app.name, org: app.org, network_id: app.network_id, host_id: hostId, region: input.region,
        address: machineAddress(app.network_id, hostId, field), state: input.stopped ? 'created' : 'started', reason: null,
        group: input.group ?? 'app', metadata: input.metadata ?? {}, command: input.command ?? null, created_at: at, updated_at: at,
      };
      await tx.run(`INSERT INTO machines (${MACHINE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        machine.id, machine.app, machine.org, machine.network_id, hostId, field, machine.region, machine.address,
        machine.state, null, machine.group, JSON.stringify(machine.metadata),
        machine.command ? JSON.stringify(machine.command) : null, at, at,
      ]);
      await tx.run('UPDATE hosts SET machine_count = machine_count + 1 WHERE id = ?', [hostId]);
      await this.commitChange(tx, [machineUpserted(machine)]);
      return machine;
    });
  }

  private async machineIn(tx: Tx, id: string): Promise<Machine> {
    const r = await tx.get<MachineRow>(`SELECT ${MACHINE_COLS} FROM machines WHERE id = ?`, [id]);
    if (!r) throw notFound('machine', id);
    return toMachine(r);
  }

  async getMachine(id: string): Promise<Machine> {
    return this.backend.read((tx) => this.machineIn(tx, id));
  }

  async listMachines(filter: { app?: string; host_id?: number; all?: boolean }): Promise<Machine[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.app !== undefined) { where.push('app = ?'); params.push(filter.app); }
    if (filter.host_id !== undefined) { where.push('host_id = ?'); params.push(filter.host_id); }
    if (!filter.all) where.push("state <> 'destroyed'");
    const sql = `SELECT ${MACHINE_COLS} FROM machines${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return this.backend.read(async (tx) => (await tx.all<MachineRow>(sql, params)).map(toMachine));
  }

  private async saveMachine(tx: Tx, m: Machine): Promise<Machine> {
    m.updated_at = now();
    await tx.run('UPDATE machines SET state = ?, reason = ?, metadata = ?, updated_at = ? WHERE id = ?',
      [m.state, m.reason, JSON.stringify(m.metadata), m.updated_at, m.id]);
    await this.commitChange(tx, [machineUpserted(m)]);
    return m;
  }

  /** Operator intent: start, stop or destroy. */
  async setMachineState(id: string, state: 'started' | 'stopped' | 'destroyed'): Promise<Machine> {
    return this.backend.write(async (tx) => {
      const m = await this.machineIn(tx, id);
      if (m.state === 'destroyed') {
        if (state === 'destroyed') return m;
        throw new AppError('conflict', `machine ${id} is destroyed`);
      }
      if (m.state === state && m.reason === null) return m;
      if (state === 'destroyed') await tx.run('UPDATE hosts SET machine_count = machine_count - 1 WHERE id = ?', [m.host_id]);
      m.state = state;
      m.reason = null;
      return this.saveMachine(tx, m);
    });
  }

  /**
   * A host reports what became of a machine it carries: `failed` (attachment
   * failed, with reason) or `stopped` (its command exited). Only a started
   * machine moves; a report that lost a race with an operator change is ignored.
   */
  async reportMachineState(hostId: number, id: string, state: 'started' | 'stopped' | 'failed', reason: string | null): Promise<Machine> {
    return this.backend.write(async (tx) => {
      const m = await this.machineIn(tx, id);
      if (m.host_id !== hostId) throw new AppError('forbidden', `machine ${id} is not on host ${hostId}`);
      if (m.state !== 'started' || state === 'started') return m;
      m.state = state;
      m.reason = state === 'failed' ? (reason ?? 'attachment failed') : reason;
      return this.saveMachine(tx, m);
    });
  }

  async setMachineMetadata(id: string, key: string, value: string | null): Promise<Machine> {
    return this.backend.write(async (tx) => {
      const m = await this.machineIn(tx, id);
      if (m.state === 'destroyed') throw new AppError('conflict', `machine ${id} is destroyed`);
      if (value === null) {
        if (!(key in m.metadata)) throw notFound('metadata key', key);
        delete m.metadata[key];
      } else {
        if (m.metadata[key] === value) return m;
        if (!(key in m.metadata) && Object.keys(m.metadata).length >= 64) throw new AppError('invalid', 'a machine holds at most 64 metadata keys');
        m.metadata[key] = value;
      }
      return this.saveMachine(tx, m);
    });
  }

  // ── developer peers ──────────────────────────────────────────────────────

  async createPeer(input: CreatePeerInput): Promise<{ peer: Peer; gateway: Host }> {
    return this.backend.write(async (tx) => {
      if (!(await tx.get('SELECT 1 FROM orgs WHERE name = ?', [input.org]))) throw notFound('org', input.org);
      const region = await this.region(tx, input.region);
      let app: AppRow | undefined;
      if (input.app) {
        app = await tx.get<AppRow>('SELECT * FROM apps WHERE name = ?', [input.app]);
        // Another org's app is "not found" to this caller, as everywhere else.
        if (!app || app.org !== input.org) throw notFound('app', input.app);
      }
      // --app alone: the peer joins that app's network (custom or default).
      const network = input.network || !app
        ? await this.networkByName(tx, input.org, input.network ?? 'default')
        : toNetwork((await tx.get<NetworkRow>('SELECT * FROM networks WHERE id = ?', [app.network_id]))!);
      if (app && Number(app.network_id) !== network.id) throw new AppError('invalid', `app ${input.app} is not in network ${network.org}/${network.name}`);
      if (await tx.get('SELECT 1 FROM peers WHERE org = ? AND name = ?', [input.org, input.name])) throw conflict('peer', input.name);
      if (await tx.get('SELECT 1 FROM peers WHERE public_key = ?', [input.public_key])) throw new AppError('conflict', 'a peer with this public key already exists');
      const gateways = (await tx.all<HostRow>('SELECT * FROM hosts WHERE gateway = 1 ORDER BY id')).map(toHost);
      const inRegion = gateways.filter((g) => g.region === input.region);
      if (inRegion.length === 0) {
        const regions = new Map((await tx.all<RegionRow>('SELECT * FROM regions')).map((r) => [r.code, toRegion(r)]));
        const nearest = [...new Set(gateways.map((g) => g.region))]
          .map((code) => ({ code, km: regionDistanceKm(region, regions.get(code)!) }))
          .sort((a, b) => a.km - b.km).slice(0, 3).map((r) => r.code);
        throw new AppError('no_gateway', nearest.length
          ? `no gateway in region ${input.region}; nearest gateways: ${nearest.join(', ')}`
          : `no gateway in region ${input.region}; no gateway host is enrolled anywhere`);
      }
      // Least-loaded gateway of the region.
      const counts = await tx.all<{ host_id: number | string; n: number | string }>('SELECT host_id, COUNT(*) AS n FROM peers GROUP BY host_id');
      const load = new Map(counts.map((c) => [Number(c.host_id), Number(c.n)]));
      const gateway = inRegion.sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.id - b.id)[0]!;
      const used = new Set((await tx.all<{ idx: number | string }>('SELECT idx FROM peers WHERE host_id = ? AND network_id = ?', [gateway.id, network.id])).map((r) => Number(r.idx)));
      const index = allocatePeerIndex(used);
      const peer: Peer = {
        org: input.org, name: input.name, network_id: network.id, host_id: gateway.id, region: input.region, index,
        address: peerAddress(network.id, gateway.id, index), public_key: input.public_key, app: input.app ?? null, created_at: now(),
      };
      await tx.run(`INSERT INTO peers (${PEER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        peer.org, peer.name, peer.network_id, peer.host_id, peer.region, peer.index, peer.address, peer.public_key, peer.app, peer.created_at,
      ]);
      await this.commitChange(tx, [peerUpserted(peer)]);
      return { peer, gateway };
    });
  }

  async listPeers(org: string): Promise<Peer[]> {
    return this.backend.read(async (tx) => (await tx.all<PeerRow>(`SELECT ${PEER_COLS} FROM peers WHERE org = ? ORDER BY name`, [org])).map(toPeer));
  }

  async getPeer(org: string, name: string): Promise<Peer> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<PeerRow>(`SELECT ${PEER_COLS} FROM peers WHERE org = ? AND name = ?`, [org, name]);
      if (!r) throw notFound('peer', name);
      return toPeer(r);
    });
  }

  async removePeer(org: string, name: string): Promise<Peer> {
    return this.backend.write(async (tx) => {
      const r = await tx.get<PeerRow>(`SELECT ${PEER_COLS} FROM peers WHERE org = ? AND name = ?`, [org, name]);
      if (!r) throw notFound('peer', name);
      await tx.run('DELETE FROM peers WHERE org = ? AND name = ?', [org, name]);
      await tx.run('DELETE FROM peer_status WHERE org = ? AND name = ?', [org, name]);
      await this.commitChange(tx, [peerDeleted(org, name)]);
      return toPeer(r);
    });
  }

  /** Gateway reports (not part of the feed: they change every few seconds). */
  async setPeerStatus(hostId: number, statuses: { org: string; name: string; latest_handshake: number; rx_bytes: number; tx_bytes: number; endpoint: string | null }[]): Promise<void> {
    await this.backend.write(async (tx) => {
      const at = now();
      for (const s of statuses) {
        const owner = await tx.get<{ host_id: number | string }>('SELECT host_id FROM peers WHERE org = ? AND name = ?', [s.org, s.name]);
        if (!owner || Number(owner.host_id) !== hostId) continue;
        await tx.run(
          `INSERT INTO peer_status (org, name, latest_handshake, rx_bytes, tx_bytes, endpoint, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (org, name) DO UPDATE SET latest_handshake = excluded.latest_handshake, rx_bytes = excluded.rx_bytes,
             tx_bytes = excluded.tx_bytes, endpoint = excluded.endpoint, reported_at = excluded.reported_at`,
          [s.org, s.name, s.latest_handshake, s.rx_bytes, s.tx_bytes, s.endpoint, at]);
      }
    });
  }

  async getPeerStatus(org: string, name: string): Promise<PeerStatus | null> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<PeerStatus>('SELECT latest_handshake, rx_bytes, tx_bytes, endpoint, reported_at FROM peer_status WHERE org = ? AND name = ?', [org, name]);
      return r ? { ...r, latest_handshake: Number(r.latest_handshake), rx_bytes: Number(r.rx_bytes), tx_bytes: Number(r.tx_bytes) } : null;
    });
  }

  // ── tokens ───────────────────────────────────────────────────────────────

  async createToken(input: { scope: Scope; org?: string | null; host_id?: number | null }): Promise<{ id: string; token: string }> {
    const id = randomBytes(6).toString('hex');
    const token = `sixpn_${input.scope.replace('-', '')}_${randomBytes(24).toString('base64url')}`;
    await this.backend.write(async (tx) => {
      if (input.org && !(await tx.get('SELECT 1 FROM orgs WHERE name = ?', [input.org]))) throw notFound('org', input.org);
      await tx.run('INSERT INTO tokens (id, hash, scope, org, host_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [id, hashToken(token), input.scope, input.org ?? null, input.host_id ?? null, now()]);
    });
    return { id, token };
  }

  async resolveToken(secret: string): Promise<TokenInfo | null> {
    return this.backend.read(async (tx) => {
      const r = await tx.get<{ id: string; scope: Scope; org: string | null; host_id: number | string | null }>(
        'SELECT id, scope, org, host_id FROM tokens WHERE hash = ? AND revoked_at IS NULL', [hashToken(secret)]);
      return r ? { id: r.id, scope: r.scope, org: r.org, host_id: r.host_id === null ? null : Number(r.host_id) } : null;
    });
  }

  async revokeToken(id: string): Promise<void> {
    await this.backend.write(async (tx) => {
      const r = await tx.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now(), id]);
      if (r.changes === 0) throw notFound('token', id);
    });
  }

  async hasAdminToken(): Promise<boolean> {
    return this.backend.read(async (tx) => !!(await tx.get("SELECT 1 FROM tokens WHERE scope = 'admin' AND revoked_at IS NULL")));
  }
}

