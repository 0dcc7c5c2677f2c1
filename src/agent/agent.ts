// The host agent: follows the coordinator's change feed and keeps this host
// converged — WireGuard device and mesh peers, addresses and routes,
// machines, nftables, the host's DNS server and the machine API it serves
// its machines (their own metadata, see src/machineapi/).
//
// Every pass recomputes the whole desired state from the replica and diffs it
// against what the devices report, so a missed event, a restart or a manual
// change is repaired by the next pass; passes are serialized and coalesced.
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import type { Upstream } from '../dns/forward.js';
import type { FastifyInstance } from 'fastify';
import { FeedClient } from '../feed/client.js';
import { Replica } from '../feed/replica.js';
import { checkCoordinatorUrl, coordinatorDispatcher, type CoordinatorTls } from '../feed/tls.js';
import type { Logger } from '../log.js';
import { canonicalCidr } from '../netlink/ip.js';
import { Rtnl } from '../netlink/rtnl.js';
import { LinkWatch } from '../netlink/watch.js';
import { NetnsDriver } from '../netns/driver.js';
import { applyTable, deleteTable, listTable } from '../nft/apply.js';
import { renderReplace, tableName } from '../nft/render.js';
import { diffPeers } from '../wg/diff.js';
import { WgTool } from '../wg/cli.js';
import { ensureDevice, removeDevice, type DeviceHandle } from '../wg/device.js';
import type { WgDump } from '../wg/dump.js';
import { buildMachineApi } from '../machineapi/server.js';
import { coordinatorWriter } from '../machineapi/writer.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../metrics/index.js';
import { ApiError, CoordinatorApi, type PeerStatus } from '../client/api.js';
import { computeDesired, type DesiredHost, type SelfConfig } from './desired.js';
import { startDnsWorker, type DnsWorker } from './dns-worker.js';
import { HookDriver } from './hook.js';
import { resolveIdentity } from './identity.js';
import { MachineManager } from './machines.js';
import { agentMetrics } from './metrics.js';
import { StatusReporter } from './reporter.js';
import { StateDir, type Identity } from './statedir.js';
import type { AttachmentDriver } from './types.js';

export { DEFAULT_DNS_PORT, DEFAULT_IFACE, DEFAULT_MTU, DEFAULT_WG_PORT } from './defaults.js';

export interface AgentConfig {
  coordinatorUrl: string;
  stateDir: string;
  region: string;
  /** HOST:PORT other hosts reach our WireGuard port at */
  endpoint: string;
  gateway: boolean;
  iface: string;
  listenPort: number;
  mtu: number;
  /** first start: enroll with this token (ignored once enrolled) */
  enrollToken?: string;
  /** an already-provisioned host (`sixpn up`): no enrollment */
  identity?: Identity;
  driver: 'netns' | 'hook';
  hook?: string;
  /** local DNS server port; null runs none */
  dnsPort: number | null;
  dnsUpstreams?: Upstream[];
  /** local port of the machine API (fdaa:*::3 tcp/80 from machines is redirected here); absent/null runs none */
  machineApiPort?: number | null;
  outsideFilter: boolean;
  /** run `machines run` commands, sandboxed (default); false: `--no-commands` */
  commands?: boolean;
  /** more host paths commands' sandboxes hide (`up`: the coordinator's data dir) */
  sandboxHide?: string[];
  openPorts: { proto: 'tcp' | 'udp'; port: number }[];
  prefix?: number;
  logger: Logger;
  /** full re-check of devices and nft (catches changes made behind our back) */
  resyncMs?: number;
  /** attachment health checks */
  healthMs?: number;
  /** gateway: developer-peer status reports */
  peerStatusMs?: number;
  /** force wireguard-go even when the kernel has WireGuard */
  userspace?: boolean;
  /** coordinator transport policy (--ca, --insecure); absent: fetch defaults, no URL policy (`sixpn up` on loopback) */
  tls?: CoordinatorTls;
  /** serve GET /metrics here */
  metrics?: { host: string; port: number } | null;
}

export interface ConvergeStats {
  rev: number;
  ms: number;
  peerChanges: number;
  nftApplied: boolean;
  /** steps that failed this pass (retried shortly) */
  failed: string[];
}

export class Agent extends EventEmitter {
  readonly replica = new Replica();
  readonly rtnl = new Rtnl();
  readonly wg: WgTool;
  readonly state: StateDir;
  readonly log: Logger;
  identity!: Identity;
  device: DeviceHandle | null = null;
  dns: DnsWorker | null = null;
  machineApi: FastifyInstance | null = null;
  metrics: MetricsServer | null = null;
  /** the device as last read (`wg show dump`), for metrics: at most one resync interval old */
  lastDump: WgDump | null = null;
  private api!: CoordinatorApi;
  feed: FeedClient | null = null;
  private reporter!: StatusReporter;
  private machines!: MachineManager;
  private links: LinkWatch | null = null;
  private self!: SelfConfig;
  private lastNft: string | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private persistTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  lastDesired: DesiredHost | null = null;
  private lastPeersKey: string | null = null;
  /** the device is new: start handshakes once its peers are set */
  private kickPending = false;
  /** the next pass re-reads everything from the devices */
  private forceNext = false;

  private constructor(readonly cfg: AgentConfig) {
    super();
    this.log = cfg.logger;
    this.wg = new WgTool(cfg.logger);
    this.state = new StateDir(cfg.stateDir);
  }

  static async start(cfg: AgentConfig): Promise<Agent> {
    const a = new Agent(cfg);
    try {
      await a.boot();
    } catch (err) {
      await a.stop().catch(() => undefined);
      throw err;
    }
    return a;
  }

  private async boot(): Promise<void> {
    const c = this.cfg;
    // A refused URL (plain HTTP off loopback without --insecure) fails here, before enrolling.
    if (c.tls) checkCoordinatorUrl(c.coordinatorUrl, c.tls);
    const dispatcher = coordinatorDispatcher(c.tls);
    this.api = new CoordinatorApi(c.coordinatorUrl, '', 10_000, dispatcher ? { dispatcher } : {});
    this.identity = await resolveIdentity({ cfg: c, state: this.state, api: this.api, log: this.log, stopped: () => this.stopped });
    this.api.setToken(this.identity.credential);
    this.self = {
      hostId: this.identity.hostId, gateway: c.gateway, iface: c.iface, listenPort: c.listenPort, mtu: c.mtu,
      prefix: c.prefix ?? DEFAULT_PREFIX, dnsPort: c.dnsPort ?? 0, machineApiPort: c.machineApiPort ?? 0, outsideFilter: c.outsideFilter, openPorts: c.openPorts,
    };
    this.log.info({ hostId: this.identity.hostId, publicKey: this.identity.publicKey, iface: c.iface }, 'agent starting');

    const saved = this.state.loadDesired();
    if (saved) {
      this.replica.applySnapshot(saved.rev, saved.state);
      this.log.info({ rev: saved.rev }, 'loaded last desired state from disk');
    }
    await this.setupDevice();
    // Rules before any long-lived connection: conntrack only knows flows it
    // saw start, and the outside filter drops packets of unknown flows (the
    // feed stream would otherwise be cut by our own first table).
    const empty = { hosts: [], machines: [], peers: [] };
    const first = computeDesired(this.replica.ready ? this.replica.toState() : empty, this.self);
    // A restart over a converged host rewrites nothing: trust the table we
    // wrote last time if it is still there.
    if ((await listTable(first.nft.table)) !== null) this.lastNft = this.state.loadText('nft.applied');
    await this.syncNft(first);

    if (c.dnsPort !== null) {
      this.dns = await startDnsWorker({
        replica: this.replica, listen: [{ host: '::', port: c.dnsPort }], upstreams: c.dnsUpstreams,
        prefix: this.self.prefix, logger: this.log.child({ component: 'dns' }),
      });
    }

    if (c.machineApiPort) {
      this.machineApi = buildMachineApi({
        replica: this.replica, hostId: this.identity.hostId, writer: coordinatorWriter(this.api, this.replica),
        logger: this.log.child({ component: 'machine-api' }),
      });
      await this.machineApi.listen({ host: '::', port: c.machineApiPort });
    }

    this.reporter = new StatusReporter(this.api, this.log.child({ component: 'reporter' }));
    const driver: AttachmentDriver = c.driver === 'hook'
      ? new HookDriver(c.hook!, this.rtnl, this.log.child({ component: 'hook' }))
      : new NetnsDriver(this.rtnl, this.log.child({ component: 'netns' }));
    this.machines = new MachineManager({ driver, state: this.state, reporter: this.reporter, log: this.log.child({ component: 'machines' }), commands: c.commands, sandboxHide: c.sandboxHide });
    this.machines.load();

    this.replica.subscribe(() => {
      this.schedulePersist();
      void this.converge();
    });
    if (this.replica.ready) await this.converge();

    this.feed = new FeedClient({ url: c.coordinatorUrl, token: this.identity.credential, replica: this.replica, logger: this.log.child({ component: 'feed' }), tls: c.tls });
    if (c.metrics) {
      const registry = createRegistry({ defaultMetrics: true });
      agentMetrics(registry, this);
      this.metrics = await serveMetrics(registry, c.metrics);
      this.log.info({ url: this.metrics.url }, 'metrics served');
    }
    this.feed.subscribe({ authError: (err) => this.log.error({ err: err.message }, 'coordinator refused our credential') });
    this.feed.start();

    this.links = new LinkWatch((name) => {
      if (name === c.iface || name.startsWith('sx')) void this.repairSoon();
    });
    this.moveEndpoint();
    this.every(c.resyncMs ?? 10_000, () => this.resync());
    this.every(c.healthMs ?? 5_000, () => this.machines.checkHealth());
    if (c.gateway) this.every(c.peerStatusMs ?? 10_000, () => this.reportPeerStatus());
  }

  /**
   * Started with another --endpoint than the one enrolled (the host moved):
   * tell the coordinator, so the other hosts' peers follow. Retried in the
   * background while the coordinator is unreachable.
   */
  private moveEndpoint(delayMs = 500): void {
    const saved = this.state.loadIdentity() as (Parameters<StateDir['saveIdentity']>[0] & { endpoint?: string }) | null;
    if (!saved?.endpoint || saved.endpoint === this.cfg.endpoint || saved.hostId !== this.identity.hostId || this.stopped) return;
    void this.api.updateEndpoint(this.identity.hostId, this.cfg.endpoint).then(() => {
      this.state.saveIdentity({ ...saved, endpoint: this.cfg.endpoint });
      this.log.info({ was: saved.endpoint, now: this.cfg.endpoint }, 'endpoint moved; coordinator updated');
    }, (err: unknown) => {
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
        this.log.error({ err: err.message, endpoint: this.cfg.endpoint }, 'coordinator refused the new endpoint');
        return;
      }
      this.log.warn({ err: String(err), retryMs: delayMs }, 'could not update endpoint; retrying');
      const t = setTimeout(() => this.moveEndpoint(Math.min(delayMs * 2, 10_000)), delayMs);
      t.unref();
      this.timers.push(t);
    });
  }

  private every(ms: number, f: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      f().catch((err: unknown) => this.log.error({ err: String(err) }, 'periodic task failed')).finally(() => { busy = false; });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Device, key, port, link state; adopts an existing device untouched. */
  private async setupDevice(): Promise<void> {
    const c = this.cfg;
    this.device = await ensureDevice({
      iface: c.iface, rtnl: this.rtnl, wg: this.wg, log: this.log, userspace: c.userspace,
      pidFile: this.state.path('wireguard-go.pid'), logFile: this.state.path('wireguard-go.log'),
    });
    if (this.device.created) this.kickPending = true;
    await this.syncDevice();
    // Routing between attachments and the tunnel; per-namespace sysctl.
    writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '1\n');
  }

  private async syncDevice(): Promise<void> {
    const c = this.cfg;
    const dump = await this.wg.show(c.iface);
    if (!dump) throw new Error(`WireGuard device ${c.iface} is not answering`);
    const set: { privateKey?: string; listenPort?: number } = {};
    if (dump.device.privateKey !== this.identity.privateKey) set.privateKey = this.identity.privateKey;
    if (dump.device.listenPort !== c.listenPort) set.listenPort = c.listenPort;
    await this.wg.setDevice(c.iface, set);
    const link = await this.rtnl.link(c.iface);
    if (!link) throw new Error(`link ${c.iface} vanished`);
    if (link.mtu !== c.mtu || !link.up) await this.rtnl.setLink(link.index, { mtu: c.mtu, up: true });
  }

  /** Converge now (or right after the pass in flight); resolves when done. */
  converge(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force) this.forceNext = true;
    this.dirty = true;
    this.running ??= (async () => {
      try {
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          await this.convergeOnce();
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async convergeOnce(): Promise<void> {
    if (!this.replica.ready) return;
    const force = this.forceNext;
    this.forceNext = false;
    const t0 = performance.now();
    const rev = this.replica.rev;
    const desired = computeDesired(this.replica.toState(), this.self);
    this.lastDesired = desired;
    const errors: string[] = [];
    const step = async <T>(name: string, f: () => Promise<T>): Promise<T | undefined> => {
      try { return await f(); } catch (err) {
        errors.push(name);
        this.log.error({ step: name, err: (err as Error).message ?? String(err) }, 'converge step failed');
        return undefined;
      }
    };
    const nftApplied = await step('nft', () => this.syncNft(desired)) ?? false;
    // `wg show` is a spawn (milliseconds of blocked event loop): only when the
    // peers changed, or on a forced pass (periodic resync, repair, retry).
    const peersKey = JSON.stringify(desired.peers);
    let peerChanges = 0;
    if (force || peersKey !== this.lastPeersKey) {
      const n = await step('wireguard', () => this.syncPeers(desired));
      if (n !== undefined) { peerChanges = n; this.lastPeersKey = peersKey; }
    }
    await step('routes', () => this.syncLinkState(desired));
    await step('machines', () => this.machines.reconcile(desired.attachments));
    const stats: ConvergeStats = { rev, ms: +(performance.now() - t0).toFixed(1), peerChanges, nftApplied, failed: errors };
    if (errors.length) this.retrySoon();
    this.log.debug(stats, 'converged');
    this.emit('converged', stats);
  }

  private retrySoon(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.converge({ force: true }); }, 1000);
    this.retryTimer.unref();
  }

  private async syncNft(d: DesiredHost): Promise<boolean> {
    const text = renderReplace(d.nft);
    if (text === this.lastNft) return false;
    await applyTable(d.nft);
    this.lastNft = text;
    this.state.saveText('nft.applied', text);
    this.log.info({ table: d.nft.table, attachments: d.nft.attachments.length, networks: d.nft.networks.length }, 'nftables table written');
    return true;
  }

  private async syncPeers(d: DesiredHost): Promise<number> {
    let dump = await this.wg.show(this.cfg.iface);
    if (!dump) {
      this.log.warn({ iface: this.cfg.iface }, 'WireGuard device lost; recreating');
      await this.setupDevice();
      dump = await this.wg.show(this.cfg.iface);
      if (!dump) throw new Error('WireGuard device did not come back');
    } else if (dump.device.privateKey !== this.identity.privateKey || dump.device.listenPort !== this.cfg.listenPort) {
      await this.syncDevice();
    }
    this.lastDump = dump;
    const changes = diffPeers(d.peers, dump.peers, Math.floor(Date.now() / 1000));
    if (changes.length) await this.wg.applyPeers(this.cfg.iface, changes);
    if (this.kickPending) await this.kickHandshakes(d);
    return changes.length;
  }

  /**
   * A new device has no sessions, but its peers still hold sessions with the
   * old one and would only notice after ~15 s (REKEY_TIMEOUT + keepalive).
   * Setting a persistent keepalive makes the device send one at once, which
   * starts a handshake; the next (forced) pass diffs the keepalive back off.
   */
  private async kickHandshakes(d: DesiredHost): Promise<void> {
    this.kickPending = false;
    const kick = d.peers.filter((p) => p.endpoint !== null && p.keepalive === 0)
      .map((p) => ({ kind: 'update' as const, publicKey: p.publicKey, keepalive: 25 }));
    if (!kick.length) return;
    await this.wg.applyPeers(this.cfg.iface, kick);
    this.lastPeersKey = null;
    const t = setTimeout(() => void this.converge({ force: true }), 2000);
    t.unref();
    this.log.info({ peers: kick.length }, 'new WireGuard device: handshakes started');
  }

  private async syncLinkState(d: DesiredHost): Promise<void> {
    const link = await this.rtnl.link(this.cfg.iface);
    if (!link) throw new Error(`link ${this.cfg.iface} is gone`);
    if (link.mtu !== this.cfg.mtu || !link.up) await this.rtnl.setLink(link.index, { mtu: this.cfg.mtu, up: true });
    const have = new Set((await this.rtnl.addresses(link.index)).map((a) => `${a.ip}/${a.prefixLen}`));
    for (const a of d.addresses) if (!have.has(canonicalCidr(a))) await this.rtnl.addAddress(link.index, a, { nodad: true });
    const routes = new Set((await this.rtnl.routes(6)).filter((r) => r.oif === link.index).map((r) => r.dst));
    for (const r of d.routes) if (!routes.has(canonicalCidr(r))) await this.rtnl.replaceRoute(r, link.index);
  }

  /** Periodic: verify what a pass trusts from memory (the nft table), then converge. */
  private async resync(): Promise<void> {
    if (this.lastDesired && (await listTable(this.lastDesired.nft.table)) === null) {
      this.log.warn({ table: this.lastDesired.nft.table }, 'nftables table missing; rewriting');
      this.lastNft = null;
    }
    await this.converge({ force: true });
  }

  private repairTimer: NodeJS.Timeout | null = null;
  /** A link of ours went away: check attachments and the device shortly (events come in bursts). */
  private async repairSoon(): Promise<void> {
    if (this.repairTimer || this.stopped) return;
    this.repairTimer = setTimeout(() => {
      this.repairTimer = null;
      void (async () => {
        await this.converge({ force: true });
        await this.machines.checkHealth();
      })().catch((err: unknown) => this.log.error({ err: String(err) }, 'repair failed'));
    }, 100);
    this.repairTimer.unref();
  }

  private async reportPeerStatus(): Promise<void> {
    const d = this.lastDesired;
    if (!d) return;
    const dump = await this.wg.show(this.cfg.iface);
    if (!dump) return;
    this.lastDump = dump;
    const peers: PeerStatus[] = [];
    for (const p of dump.peers) {
      const o = d.owners.get(p.publicKey);
      if (o?.kind !== 'peer') continue;
      peers.push({ org: o.org, name: o.name, latest_handshake: p.latestHandshake, rx_bytes: p.rxBytes, tx_bytes: p.txBytes, endpoint: p.endpoint });
    }
    if (!peers.length) return;
    await this.api.reportPeers(this.identity.hostId, peers).catch((err: unknown) => {
      this.log.debug({ err: err instanceof ApiError ? err.message : String(err) }, 'peer status report failed');
    });
  }

  private schedulePersist(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => { this.persistTimer = null; this.persist(); }, 200);
    this.persistTimer.unref();
  }

  private persist(): void {
    if (!this.replica.ready) return;
    try {
      this.state.saveDesired(this.replica.rev, this.replica.toState());
    } catch (err) {
      this.log.error({ err: String(err) }, 'could not persist desired state');
    }
  }

  /** Machines attached right now. */
  get attachedCount(): number {
    return this.machines?.attached().length ?? 0;
  }

  /** Is the feed connected right now? */
  get connected(): boolean {
    return this.feed?.connected ?? false;
  }

  /**
   * Stop following the coordinator. Without `teardown` everything stays as
   * it is (interface, peers, machines, rules): a restarted agent adopts it.
   * With `teardown` the agent removes all it made.
   */
  async stop(opts: { teardown?: boolean } = {}): Promise<void> {
    const first = !this.stopped;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const t of [this.retryTimer, this.repairTimer]) if (t) clearTimeout(t);
    this.links?.close();
    await this.feed?.stop();
    await this.running?.catch(() => undefined);
    if (first && this.persistTimer) { clearTimeout(this.persistTimer); this.persistTimer = null; this.persist(); }
    this.reporter?.stop();
    await this.dns?.close();
    this.dns = null;
    await this.machineApi?.close();
    this.machineApi = null;
    await this.metrics?.close();
    this.metrics = null;
    if (opts.teardown) {
      await this.machines?.teardown();
      await deleteTable(this.lastDesired?.nft.table ?? tableName(this.cfg.iface));
      await removeDevice({ iface: this.cfg.iface, rtnl: this.rtnl, log: this.log, pidFile: this.state.path('wireguard-go.pid') });
    } else {
      this.machines?.stop();
    }
    this.rtnl.close();
    this.log.info({ teardown: Boolean(opts.teardown) }, 'agent stopped');
  }
}

