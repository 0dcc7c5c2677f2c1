// The store facade: every write validates, allocates, bumps the one global
// revision and appends its change record in the same transaction. The
// per-entity modules beside this file own their SQL, row mapping and rules;
// this class opens the transactions, composes entities and decides which
// change ops a write publishes. It runs on any SqlBackend (SQLite embedded,
// PostgreSQL for several coordinators).
import { randomBytes } from 'node:crypto';
import { notFound } from '../errors.js';
import type { TokenInfo, TokenRecord } from '../model/auth.js';
import type { HostReport } from '../model/host-report.js';
import { appUpserted, hostUpserted, machineUpserted, networkUpserted, orgUpserted, peerDeleted, peerUpserted } from '../model/changes.js';
import { REGIONS } from '../model/regions.js';
import type { App, ChangeRecord, Host, Lease, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import * as apps from './apps.js';
import * as changes from './changes.js';
import * as hosts from './hosts.js';
import * as leases from './leases.js';
import * as machines from './machines.js';
import * as networks from './networks.js';
import * as orgs from './orgs.js';
import * as peers from './peers.js';
import { DEFAULT_QUOTAS, enforceQuota, type Quotas } from './quotas.js';
import * as regions from './regions.js';
import { removeHostTx, type HostRemoved } from './host-removal.js';
import { DEFAULT_HOST_TIMEOUT_MS, type StoreOptions, type Written } from './options.js';
import { MIGRATIONS } from './schema.js';
import { now, type SqlBackend, type Tx } from './sql.js';
import * as tokens from './tokens.js';

export { DEFAULT_HOST_TIMEOUT_MS, type HostRemoved, type StoreOptions };

export class Store {
  private readonly keepChanges: number;
  private readonly randomHex: () => string;
  readonly hostTimeoutMs: number;
  /** silence is counted from here at the earliest: a restarted coordinator did not hear anyone while it was down */
  private readonly openedAt = Date.now();
  readonly quotas: Quotas;

  private constructor(
    readonly backend: SqlBackend,
    opts: StoreOptions,
  ) {
    this.keepChanges = opts.keepChanges ?? 100_000;
    this.randomHex = opts.randomHex ?? (() => randomBytes(7).toString('hex'));
    this.quotas = { ...DEFAULT_QUOTAS, ...opts.quotas };
    this.hostTimeoutMs = opts.hostTimeoutMs ?? DEFAULT_HOST_TIMEOUT_MS;
  }

  /** Which hosts count as reachable now (see hosts.Liveness). */
  private liveness(): hosts.Liveness {
    const cutoffMs = Date.now() - this.hostTimeoutMs;
    return cutoffMs < this.openedAt ? hosts.ALWAYS_REACHABLE : { cutoffMs };
  }

  static async open(backend: SqlBackend, opts: StoreOptions = {}): Promise<Store> {
    await backend.migrate(MIGRATIONS);
    const store = new Store(backend, opts);
    await backend.write((tx) => regions.seedRegions(tx, REGIONS));
    return store;
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  /** Called after every commit (this process's or, on PostgreSQL, another coordinator's). */
  onCommit(listener: () => void): () => void {
    return this.backend.onCommit(listener);
  }

  private read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.backend.read(fn);
  }

  /** One write transaction; its ops, if any, become the next revision in the same transaction. */
  private change<T>(fn: (tx: Tx) => Promise<Written<T>>): Promise<T> {
    return this.backend.write(async (tx) => {
      const { value, ops } = await fn(tx);
      if (ops.length > 0) await changes.commitChange(tx, ops, this.keepChanges);
      return value;
    });
  }

  // ── revision and change feed ─────────────────────────────────────────────

  rev(): Promise<number> {
    return this.read(changes.headRev);
  }

  /** Lowest revision a watcher may resume after without a snapshot. */
  oldestResumableRev(): Promise<number> {
    return this.read(changes.oldestResumableRev);
  }

  changesSince(rev: number, limit = 1000): Promise<ChangeRecord[]> {
    return this.read((tx) => changes.changesSince(tx, rev, limit));
  }

  /** The whole replicated state at one revision (one read view). */
  snapshot(): Promise<{ rev: number; state: State }> {
    return this.read(async (tx) => {
      const rev = await changes.headRev(tx);
      const state: State = {
        regions: await regions.listRegions(tx),
        orgs: await orgs.listOrgs(tx),
        networks: await networks.listNetworks(tx),
        apps: await apps.listApps(tx),
        hosts: await hosts.listHosts(tx),
        machines: await machines.liveMachines(tx),
        peers: await peers.listPeers(tx),
      };
      return { rev, state };
    });
  }

  listRegions(): Promise<Region[]> {
    return this.read(regions.listRegions);
  }

  // ── orgs and networks ────────────────────────────────────────────────────

  createOrg(name: string): Promise<{ org: Org; network: Network }> {
    return this.change(async (tx) => {
      const org = await orgs.insertOrg(tx, name, now());
      const network = await networks.insertNetwork(tx, { id: org.network_id, org: name, name: 'default', created_at: org.created_at });
      return { value: { org, network }, ops: [orgUpserted(org), networkUpserted(network)] };
    });
  }

  /** Create the org unless it exists (used by `sixpn up` for its default org). */
  async ensureOrg(name: string): Promise<Org> {
    const existing = await this.findOrg(name);
    return existing ?? (await this.createOrg(name)).org;
  }

  findOrg(name: string): Promise<Org | null> {
    return this.read((tx) => orgs.findOrg(tx, name));
  }

  getOrg(name: string): Promise<Org> {
    return this.read((tx) => orgs.getOrg(tx, name));
  }

  listOrgs(): Promise<Org[]> {
    return this.read(orgs.listOrgs);
  }

  createNetwork(org: string, name: string): Promise<Network> {
    return this.change(async (tx) => {
      await orgs.requireOrg(tx, org);
      const network = await networks.createNetwork(tx, org, name, now());
      await enforceQuota(tx, this.quotas, 'networks', org);
      return { value: network, ops: [networkUpserted(network)] };
    });
  }

  listNetworks(org: string): Promise<Network[]> {
    return this.read((tx) => networks.listNetworks(tx, org));
  }

  // ── apps ─────────────────────────────────────────────────────────────────

  /** Create an app in the org's default network, or in a custom one (created on first use). */
  createApp(input: { name: string; org: string; network?: string }): Promise<App> {
    return this.change(async (tx) => {
      await orgs.requireOrg(tx, input.org);
      const { app, network } = await apps.createApp(tx, input);
      if (network) await enforceQuota(tx, this.quotas, 'networks', input.org);
      return { value: app, ops: network ? [networkUpserted(network), appUpserted(app)] : [appUpserted(app)] };
    });
  }

  getApp(name: string): Promise<App> {
    return this.read((tx) => apps.requireApp(tx, name));
  }

  listApps(org?: string): Promise<App[]> {
    return this.read((tx) => apps.listApps(tx, org));
  }

  // ── hosts ────────────────────────────────────────────────────────────────

  /** Enroll a host, or the same key again (idempotent; see hosts.enrollHost); host and credential in one transaction. */
  enrollHost(input: hosts.EnrollInput): Promise<hosts.Enrolled> {
    return this.change(async (tx) => {
      const r = await hosts.enrollHost(tx, input, this.liveness());
      return { value: r, ops: r.changed ? [hostUpserted(r.host)] : [] };
    });
  }

  /**
   * Remove a host: its machines become `lost`, its credentials are revoked
   * and every other host drops it as a peer (a host delete in the feed). A
   * gateway still carrying developer peers is refused unless `force`, which
   * removes them too.
   */
  removeHost(id: number, force: boolean): Promise<HostRemoved> {
    return this.change((tx) => removeHostTx(tx, id, force));
  }

  /** A host's heartbeat, with its agent's report when given: bookkeeping outside the feed (no revision, no global revision lock). */
  async heartbeat(id: number, report?: HostReport): Promise<void> {
    const known = await this.backend.writeAside((tx) => hosts.heartbeat(tx, id, Date.now(), report));
    if (!known) throw notFound('host', id);
  }

  /** Hosts with their credential id, last heartbeat and status. */
  listHostsWithStatus(): Promise<hosts.HostListed[]> {
    return this.read((tx) => hosts.listHostsWithStatus(tx, this.liveness()));
  }

  getHostWithStatus(id: number): Promise<hosts.HostListed> {
    return this.read((tx) => hosts.getHostWithStatus(tx, id, this.liveness()));
  }

  updateHost(id: number, patch: hosts.HostPatch): Promise<Host> {
    return this.change(async (tx) => {
      const { host, changed } = await hosts.updateHost(tx, id, patch);
      return { value: host, ops: changed ? [hostUpserted(host)] : [] };
    });
  }

  getHost(id: number): Promise<Host> {
    return this.read((tx) => hosts.requireHost(tx, id));
  }

  listHosts(): Promise<Host[]> {
    return this.read(hosts.listHosts);
  }

  // ── machines ─────────────────────────────────────────────────────────────

  createMachine(input: machines.CreateMachineInput): Promise<Machine> {
    return this.change(async (tx) => {
      const machine = await machines.createMachine(tx, input, this.randomHex, this.liveness());
      await enforceQuota(tx, this.quotas, 'machines', machine.org);
      return { value: machine, ops: [machineUpserted(machine)] };
    });
  }

  getMachine(id: string): Promise<Machine> {
    return this.read((tx) => machines.requireMachine(tx, id));
  }

  listMachines(filter: machines.MachineFilter): Promise<Machine[]> {
    return this.read((tx) => machines.listMachines(tx, filter));
  }

  /** Operator intent: start, stop or destroy. */
  setMachineState(id: string, state: 'started' | 'stopped' | 'destroyed'): Promise<Machine> {
    return this.changeMachine((tx) => machines.setMachineState(tx, id, state));
  }

  /** A host reports what became of a machine it carries (see machines.reportMachineState). */
  reportMachineState(hostId: number, id: string, state: 'started' | 'stopped' | 'failed', reason: string | null): Promise<Machine> {
    return this.changeMachine((tx) => machines.reportMachineState(tx, hostId, id, state, reason));
  }

  /** `ifMatch`: write only if the machine's metadata is still at that revision (412 otherwise). */
  setMachineMetadata(id: string, key: string, value: string | null, ifMatch?: number): Promise<Machine> {
    return this.changeMachine((tx) => machines.setMachineMetadata(tx, id, key, value, ifMatch));
  }

  /** A host reports its checks' outcome; a revision only when the health flips. */
  reportMachineHealth(hostId: number, id: string, health: 'passing' | 'critical'): Promise<Machine> {
    return this.changeMachine((tx) => machines.reportMachineHealth(tx, hostId, id, health));
  }

  // ── leases ───────────────────────────────────────────────────────────────

  /** Acquire or renew; a new holder publishes the machines whose `leases` changed, a renewal nothing. */
  acquireLease(machineId: string, name: string, ttl: number): Promise<leases.LeaseWrite> {
    return this.changeLeases((tx) => leases.acquireLease(tx, machineId, name, ttl));
  }

  releaseLease(machineId: string, name: string): Promise<leases.LeaseWrite> {
    return this.changeLeases((tx) => leases.releaseLease(tx, machineId, name));
  }

  readLease(app: string, name: string): Promise<Lease> {
    return this.read((tx) => leases.readLease(tx, app, name));
  }

  /** End expired leases; returns when the next one expires (ms since the epoch) or null. */
  expireLeases(): Promise<number | null> {
    return this.change(async (tx) => {
      const changed = await leases.expireLeases(tx);
      return { value: await leases.nextExpiry(tx), ops: changed.map(machineUpserted) };
    });
  }

  private changeLeases(fn: (tx: Tx) => Promise<leases.LeaseWrite>): Promise<leases.LeaseWrite> {
    return this.change(async (tx) => {
      const w = await fn(tx);
      return { value: w, ops: w.machines.map(machineUpserted) };
    });
  }

  private changeMachine(fn: (tx: Tx) => Promise<machines.MachineWrite>): Promise<Machine> {
    return this.change(async (tx) => {
      const { machine, changed } = await fn(tx);
      return { value: machine, ops: changed ? [machineUpserted(machine)] : [] };
    });
  }

  // ── developer peers ──────────────────────────────────────────────────────

  createPeer(input: peers.CreatePeerInput): Promise<{ peer: Peer; gateway: Host }> {
    return this.change(async (tx) => {
      const created = await peers.createPeer(tx, input, this.liveness());
      await enforceQuota(tx, this.quotas, 'peers', input.org);
      return { value: created, ops: [peerUpserted(created.peer)] };
    });
  }

  listPeers(org: string): Promise<Peer[]> {
    return this.read((tx) => peers.listPeers(tx, org));
  }

  getPeer(org: string, name: string): Promise<Peer> {
    return this.read((tx) => peers.requirePeer(tx, org, name));
  }

  removePeer(org: string, name: string): Promise<Peer> {
    return this.change(async (tx) => ({ value: await peers.removePeer(tx, org, name), ops: [peerDeleted(org, name)] }));
  }

  /** Remove the ephemeral peers expired at `at`, in one revision (gateways drop them like any removal). */
  removeExpiredPeers(at: string = now()): Promise<Peer[]> {
    return this.change(async (tx) => {
      const gone = await peers.removeExpiredPeers(tx, at);
      return { value: gone, ops: gone.map((p) => peerDeleted(p.org, p.name)) };
    });
  }

  /** The soonest expiry (ISO) of an ephemeral peer, or null. */
  nextPeerExpiry(): Promise<string | null> {
    return this.read(peers.nextPeerExpiry);
  }

  /**
   * Gateway reports (not part of the feed: they change every few seconds), so
   * they take neither the global revision lock nor a revision.
   */
  async setPeerStatus(hostId: number, statuses: peers.PeerStatusReport[]): Promise<void> {
    await this.backend.writeAside((tx) => peers.setPeerStatus(tx, hostId, statuses));
  }

  getPeerStatus(org: string, name: string): Promise<peers.PeerStatus | null> {
    return this.read((tx) => peers.getPeerStatus(tx, org, name));
  }

  // ── tokens (not replicated) ──────────────────────────────────────────────

  createToken(input: Parameters<typeof tokens.createToken>[1]): Promise<{ id: string; token: string }> {
    return this.backend.write(async (tx) => {
      const created = await tokens.createToken(tx, input);
      if (input.org) await enforceQuota(tx, this.quotas, 'tokens', input.org);
      return created;
    });
  }

  resolveToken(secret: string): Promise<TokenInfo | null> {
    return this.read((tx) => tokens.resolveToken(tx, secret));
  }

  async revokeToken(id: string): Promise<void> {
    await this.backend.write((tx) => tokens.revokeToken(tx, id));
  }

  hasAdminToken(): Promise<boolean> {
    return this.read(tokens.hasAdminToken);
  }

  listTokens(org?: string): Promise<TokenRecord[]> {
    return this.read((tx) => tokens.listTokens(tx, org));
  }

  findToken(id: string): Promise<TokenRecord | null> {
    return this.read((tx) => tokens.findToken(tx, id));
  }

  /** Last-used times (callers batch and throttle these). */
  async touchTokens(ids: readonly string[], at: string = now()): Promise<void> {
    if (ids.length > 0) await this.backend.write((tx) => tokens.touchTokens(tx, ids, at));
  }

  revokedTokensSince(since: string): Promise<{ id: string; revoked_at: string }[]> {
    return this.read((tx) => tokens.revokedSince(tx, since));
  }
}
