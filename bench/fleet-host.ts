// One simulated host of the fleet bench: the real feed client, replica, DNS
// index and agent reconciler (planner, apply, loop) over an in-memory device
// (testkit/fake-host.ts) instead of wireguard, routes and nftables. It
// records, for every change record it received, the time from its commit to
// the end of the first reconcile pass that covered it. Its stream is scoped to
// the orgs it runs (feed protocol 3): another org's change never reaches it,
// and is no work of it.
import { DEFAULT_PREFIX } from '../src/addr/plan.js';
import { freshMemory, setupDevice, type ApplyMemory, type DeviceWant } from '../src/agent/apply.js';
import { Planner } from '../src/agent/plan.js';
import { Reconciler } from '../src/agent/reconciler.js';
import { StatusBoard } from '../src/agent/status.js';
import { DnsIndexer } from '../src/dns/indexer.js';
import { FeedClient } from '../src/feed/client.js';
import { Replica } from '../src/feed/replica.js';
import { silentLogger } from '../src/log.js';
import { FakeHost } from '../testkit/fake-host.js';
import { record, type LatencyHist } from './fleet-stats.js';

export interface SimHostOptions {
  url: string;
  hostId: number;
  token: string;
  privateKey: string;
  /** commit time (ms since the epoch) of each change record, shared by the hosts of a worker */
  commits: Map<number, number>;
  hist: LatencyHist;
  /** the reconciler's periodic forced pass; 0: none */
  resyncMs: number;
  /** commit to the replica applying the change (before the DNS index and the pass) */
  feedHist: LatencyHist;
}

export class SimHost {
  readonly replica = new Replica();
  readonly feed: FeedClient;
  readonly dns: DnsIndexer;
  readonly reconciler: Reconciler;
  private readonly host = new FakeHost();
  private readonly device: DeviceWant;
  private readonly memory: ApplyMemory;
  /** the highest revision a finished pass covered */
  converged = 0;
  private readonly waiters: { rev: number; resolve: () => void }[] = [];
  /** revisions received and not yet covered by a pass, ascending */
  private readonly received: number[] = [];

  constructor(private readonly o: SimHostOptions) {
    this.feed = new FeedClient({ url: o.url, token: o.token, replica: this.replica, userAgent: 'sixpn-fleet-bench' });
    this.feed.subscribe({
      applied: ({ rev, at }) => {
        let t = o.commits.get(rev);
        if (t === undefined) o.commits.set(rev, (t = Date.parse(at)));
        record(o.feedHist, Date.now() - t);
        this.received.push(rev);
      },
    });
    this.dns = new DnsIndexer(this.replica, DEFAULT_PREFIX);
    const status = new StatusBoard();
    this.device = { iface: 'sixpn0', privateKey: o.privateKey, listenPort: 51820, mtu: 1420 };
    const planner = new Planner({
      hostId: o.hostId,
      gateway: false,
      iface: 'sixpn0',
      listenPort: 51820,
      mtu: 1420,
      prefix: DEFAULT_PREFIX,
      dnsPort: 5353,
      machineApiPort: 0,
      outsideFilter: true,
      openPorts: [],
    });
    const memory = freshMemory();
    this.reconciler = new Reconciler({
      replica: this.replica,
      planner,
      ports: this.host,
      device: this.device,
      memory,
      status,
      log: silentLogger,
      timing: { resyncMs: o.resyncMs },
    });
    status.onPass((s) => this.passed(s.rev));
    this.memory = memory;
  }

  async start(): Promise<void> {
    await setupDevice(this.host, this.device, this.memory);
    this.reconciler.start();
    this.feed.start();
  }

  /** Resolves once a pass covered `rev`. */
  until(rev: number): Promise<void> {
    if (this.converged >= rev) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  private passed(rev: number): void {
    this.host.calls.length = 0; // the fake's call log is for tests; here it would only grow
    if (rev <= this.converged) return;
    const now = Date.now();
    let n = 0;
    for (; n < this.received.length && this.received[n]! <= rev; n++) {
      const at = this.o.commits.get(this.received[n]!);
      if (at !== undefined) record(this.o.hist, now - at);
    }
    this.received.splice(0, n);
    this.converged = rev;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.rev <= rev) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  async stop(): Promise<void> {
    await this.feed.stop();
    await this.reconciler.stop();
    this.dns.close();
  }
}
