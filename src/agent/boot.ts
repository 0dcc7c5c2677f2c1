// Bringing an agent up and down: identity (enrollment), the WireGuard device,
// the first nft rules, the DNS worker, the machine API, the machines, the
// feed into the replica, the reconciler, link events and timers; and
// stopping all of it, leaving the host as it is or (teardown) removing it.
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { FeedClient } from '../feed/client.js';
import { Replica } from '../feed/replica.js';
import { checkCoordinatorUrl, coordinatorDispatcher } from '../feed/tls.js';
import { partLogger, type Logger } from '../log.js';
import { buildMachineApi } from '../machineapi/server.js';
import { coordinatorWriter } from '../machineapi/writer.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../metrics/index.js';
import { Rtnl } from '../netlink/rtnl.js';
import { LinkWatch } from '../netlink/watch.js';
import { NetnsDriver } from '../netns/driver.js';
import { deleteTable } from '../nft/apply.js';
import { tableName } from '../nft/render.js';
import { WgTool } from '../wg/cli.js';
import { removeDevice } from '../wg/device.js';
import { CoordinatorApi } from '../client/api.js';
import { freshMemory, setupDevice, writeBootNft, type DeviceWant } from './apply.js';
import type { AgentConfig } from './config.js';
import { computeDesired, type SelfConfig } from './desired.js';
import { startDnsWorker, type DnsWorker } from './dns-worker.js';
import { startHeartbeat } from './heartbeat.js';
import { HostReporter } from './host-report.js';
import { HookDriver } from './hook.js';
import { HostWg, hostNft, hostRtnl } from './host-ports.js';
import { followEndpoint, resolveIdentity } from './identity.js';
import { MachineManager } from './machines.js';
import { agentMetrics } from './metrics.js';
import { reportPeerStatus } from './peer-status.js';
import { Planner } from './plan.js';
import type { Ports } from './ports.js';
import { Reconciler } from './reconciler.js';
import { EndpointResolver } from './resolver.js';
import { StatusReporter } from './reporter.js';
import { HealthChecks } from './checks.js';
import { ReplicaSaver } from './saver.js';
import { StateDir, type Identity } from './statedir.js';
import { StatusBoard } from './status.js';
import { Timers } from './timers.js';
import type { AttachmentDriver } from './types.js';
import { userAgent } from '../version.js';

/** A running agent's parts; `stop` takes down whatever `boot` got to. */
export class AgentRuntime {
  readonly replica = new Replica();
  // A socket error may have lost a reply (that request fails on its own): resync soon.
  readonly rtnl = new Rtnl((err) => {
    this.log.warn({ err: err.message }, 'netlink socket error; resyncing');
    this.reconciler?.repairSoon();
  });
  readonly state: StateDir;
  readonly status = new StatusBoard();
  readonly wg: HostWg;
  readonly log: Logger;
  identity: Identity | null = null;
  feed: FeedClient | null = null;
  reconciler: Reconciler | null = null;
  private readonly timers: Timers;
  private saver: ReplicaSaver | null = null;
  private dns: DnsWorker | null = null;
  private machineApi: FastifyInstance | null = null;
  private metrics: MetricsServer | null = null;
  private reporter: StatusReporter | null = null;
  private machines: MachineManager | null = null;
  private checks: HealthChecks | null = null;
  private links: LinkWatch | null = null;
  private unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(readonly cfg: AgentConfig) {
    this.log = cfg.logger;
    this.state = new StateDir(cfg.stateDir);
    this.timers = new Timers(this.log);
    this.wg = new HostWg({ tool: new WgTool(this.log), rtnl: this.rtnl, state: this.state, log: this.log, userspace: cfg.userspace });
  }

  async boot(): Promise<void> {
    const c = this.cfg;
    // A refused URL (plain HTTP off loopback without --insecure) fails here, before enrolling.
    if (c.tls) checkCoordinatorUrl(c.coordinatorUrl, c.tls);
    const dispatcher = coordinatorDispatcher(c.tls);
    const api = new CoordinatorApi(c.coordinatorUrl, '', 10_000, dispatcher ? { dispatcher } : {}, userAgent('agent'));
    const identity = (this.identity = await resolveIdentity({ cfg: c, state: this.state, api, log: this.log, stopped: () => this.stopped }));
    api.setToken(identity.credential);
    const self: SelfConfig = {
      hostId: identity.hostId,
      gateway: c.gateway,
      iface: c.iface,
      listenPort: c.listenPort,
      mtu: c.mtu,
      prefix: c.prefix ?? DEFAULT_PREFIX,
      dnsPort: c.dnsPort ?? 0,
      machineApiPort: c.machineApiPort ?? 0,
      outsideFilter: c.outsideFilter,
      openPorts: c.openPorts,
    };
    this.log.info({ hostId: identity.hostId, publicKey: identity.publicKey, iface: c.iface }, 'agent starting');

    const saved = this.state.loadDesired((msg, o) => this.log.error(o, msg));
    if (saved) {
      this.replica.applySnapshot(saved.rev, saved.state);
      this.log.info({ rev: saved.rev, file: saved.from }, 'loaded last desired state from disk');
    } else {
      this.log.warn('no saved desired state: the live host is left as it is until the coordinator answers');
    }
    this.reporter = new StatusReporter(api, partLogger(this.log, 'reporter'));
    const driver: AttachmentDriver =
      c.driver === 'hook' ? new HookDriver(c.hook!, this.rtnl, partLogger(this.log, 'hook')) : new NetnsDriver(this.rtnl, partLogger(this.log, 'netns'));
    const machines = (this.machines = new MachineManager({
      driver,
      state: this.state,
      reporter: this.reporter,
      log: partLogger(this.log, 'machines'),
      commands: c.commands,
      sandboxHide: c.sandboxHide,
    }));
    this.status.bind({ attached: () => machines.attached().length });
    const ports: Ports = { wg: this.wg, rtnl: hostRtnl(this.rtnl, this.log), nft: hostNft(this.state), machines, resolver: new EndpointResolver() };
    const device: DeviceWant = { iface: c.iface, privateKey: identity.privateKey, listenPort: c.listenPort, mtu: c.mtu };
    const memory = freshMemory();
    await setupDevice(ports, device, memory);
    // Rules before any long-lived connection: conntrack only knows flows it
    // saw start, and the outside filter drops packets of unknown flows (the
    // feed stream would otherwise be cut by our own first table).
    const first = computeDesired(this.replica.ready ? this.replica.toState() : { hosts: [], machines: [], peers: [] }, self);
    await writeBootNft(first, this.replica.ready, ports, memory, this.state.loadText('nft.applied'), this.log);

    if (c.dnsPort !== null) {
      this.dns = await startDnsWorker({
        replica: this.replica,
        listen: [{ host: '::', port: c.dnsPort }],
        upstreams: c.dnsUpstreams,
        prefix: self.prefix,
        logger: partLogger(this.log, 'dns'),
      });
    }
    if (c.machineApiPort) {
      this.machineApi = buildMachineApi({
        replica: this.replica,
        hostId: identity.hostId,
        writer: coordinatorWriter(api, this.replica),
        leases: api,
        logger: partLogger(this.log, 'machine-api'),
      });
      await this.machineApi.listen({ host: '::', port: c.machineApiPort });
    }

    machines.load(); // adopted on the first pass
    const planner = new Planner(self);
    const saver = (this.saver = new ReplicaSaver(this.replica, this.state, this.log));
    this.unsubscribe.push(this.replica.subscribe(() => saver.schedule()));
    const reconciler = (this.reconciler = new Reconciler({
      replica: this.replica,
      planner,
      ports,
      device,
      memory,
      status: this.status,
      log: this.log,
      timing: { resyncMs: c.resyncMs ?? 10_000 },
    }));
    reconciler.start();
    if (this.replica.ready) await reconciler.converge();

    const feed = (this.feed = new FeedClient({
      url: c.coordinatorUrl,
      token: identity.credential,
      replica: this.replica,
      logger: partLogger(this.log, 'feed'),
      tls: c.tls,
      userAgent: userAgent('agent'),
    }));
    this.status.bind({ connected: () => feed.connected });
    if (c.metrics) {
      const registry = createRegistry({ defaultMetrics: true });
      agentMetrics(registry, { status: this.status, feed, replica: this.replica });
      this.metrics = await serveMetrics(registry, c.metrics);
      this.log.info({ url: this.metrics.url }, 'metrics served');
    }
    this.unsubscribe.push(feed.subscribe({ authError: (err) => this.log.error({ err: err.message }, 'coordinator refused our credential') }));
    feed.start();

    this.links = new LinkWatch(
      (name) => {
        if (name === c.iface || name.startsWith('sx')) reconciler.repairSoon();
      },
      {
        // Link events may have been lost: subscribed again; re-read everything now.
        onResync: (err) => {
          this.log.warn({ err: err.message }, 'netlink link watch failed; subscribed again, resyncing');
          reconciler.repairSoon();
        },
      },
    );
    followEndpoint({ state: this.state, api, hostId: identity.hostId, endpoint: c.endpoint, log: this.log, timers: this.timers });
    const reporter = new HostReporter({ replica: this.replica, wg: this.wg, iface: c.iface, dns: () => this.dns?.mark ?? null });
    this.unsubscribe.push(reporter.stop);
    const report = () => reporter.report();
    startHeartbeat({ api, hostId: identity.hostId, log: partLogger(this.log, 'heartbeat'), timers: this.timers, everyMs: c.heartbeatMs, report });
    this.timers.every(c.healthMs ?? 5_000, () => machines.checkHealth());
    // the machines' own checks (--check): their outcome decides whether DNS lists them
    this.checks = new HealthChecks({
      machines: () => this.replica.machines.values(),
      subscribe: (fn) => this.replica.subscribe(fn),
      hostId: identity.hostId,
      report: async (id, health) => {
        await api.reportHealth(id, health);
      },
      log: partLogger(this.log, 'checks'),
    });
    this.checks.start();
    if (c.gateway) {
      this.timers.every(c.peerStatusMs ?? 10_000, () =>
        reportPeerStatus({ status: this.status, wg: this.wg, iface: c.iface, api, hostId: identity.hostId, log: this.log }),
      );
    }
  }

  /**
   * Stop following the coordinator. Without `teardown` everything stays as
   * it is (interface, peers, machines, rules): a restarted agent adopts it.
   * With `teardown` the agent removes all it made.
   */
  async stop(opts: { teardown?: boolean } = {}): Promise<void> {
    const first = !this.stopped;
    this.stopped = true;
    this.timers.stop();
    this.checks?.stop();
    this.links?.close();
    const passes = this.reconciler?.stop();
    await this.feed?.stop();
    await passes;
    for (const u of this.unsubscribe.splice(0)) u();
    if (first) this.saver?.flush();
    this.reporter?.stop();
    await this.dns?.close();
    this.dns = null;
    await this.machineApi?.close();
    this.machineApi = null;
    await this.metrics?.close();
    this.metrics = null;
    if (opts.teardown) {
      await this.machines?.teardown();
      await deleteTable(this.status.desired?.nft.table ?? tableName(this.cfg.iface));
      await removeDevice({ iface: this.cfg.iface, rtnl: this.rtnl, log: this.log, pidFile: this.state.path('wireguard-go.pid') });
    } else {
      this.machines?.stop();
    }
    this.rtnl.close();
    this.log.info({ teardown: Boolean(opts.teardown) }, 'agent stopped');
  }
}
