// `npm run bench -- fleet`: one coordinator and FLEET_REPLICAS simulated hosts
// (fleet-host.ts: real feed client, replica, DNS index and agent reconciler
// over an in-memory device), many per worker thread, while a load generator
// makes FLEET_RATE changes/s for FLEET_SECONDS. Reports convergence from
// commit to applied on every replica, the coordinator's CPU and RSS, memory
// per replica and a fresh replica's snapshot time; the last line is
// `fleet: replicas=N rate=R changes=C p50_ms=X p99_ms=Y max_ms=Z coordinator_rss_mb=M replica_rss_mb=K snapshot_s=S`.
// FLEET_STORE=pg runs the coordinator on a throwaway PostgreSQL (testkit/pg.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Agent, setGlobalDispatcher } from 'undici';
import { FeedClient } from '../src/feed/client.js';
import { Replica } from '../src/feed/replica.js';
import { startPg, type PgCluster } from '../testkit/pg.js';
import { BenchCoordinator } from './fleet-coordinator.js';
import { runLoad } from './fleet-load.js';
import type { ToMain, ToWorker, WorkerSetup } from './fleet-protocol.js';
import { seedFleet } from './fleet-seed.js';
import { merge, newHist, quantile } from './fleet-stats.js';
import { threadCpuSeconds } from './procstat.js';

const env = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`${name} must be a non-negative number`);
    process.exit(2);
  }
  return v;
};
const REPLICAS = Math.max(1, env('FLEET_REPLICAS', 1000));
const RATE = env('FLEET_RATE', 100);
const SECONDS = env('FLEET_SECONDS', 30);
const MACHINES = env('FLEET_MACHINES', 1000);
const ORGS = Math.max(1, env('FLEET_ORGS', 100));
const WORKERS = Math.max(1, Math.min(REPLICAS, env('FLEET_WORKERS', 2)));
// A real agent forces a pass every 10 s; a thousand of them sharing two cores would spend
// them on that alone, so it is off unless asked for (it is not on the path of a change).
const RESYNC_MS = env('FLEET_RESYNC_MS', 0);
// Each worker thread holds hundreds of simulated hosts in one heap (gigabytes, where a real
// agent's is a few MB): V8's defaults for one program would make GC, not the hosts' work,
// the cost measured. 0: V8's default.
const YOUNG_MB = env('FLEET_YOUNG_MB', 256);
const OLD_MB = env('FLEET_OLD_MB', 8192);
const STORE = process.env.FLEET_STORE ?? 'sqlite';
if (STORE !== 'sqlite' && STORE !== 'pg') {
  console.error('FLEET_STORE must be sqlite or pg');
  process.exit(2);
}

// The load generator's requests: keep-alive, enough connections for the open loop.
setGlobalDispatcher(new Agent({ connections: 64 }));

class Fleet {
  private readonly workers: Worker[] = [];
  private readonly inbox: ((m: ToMain) => void)[][] = [];

  constructor(setups: WorkerSetup[]) {
    for (const [i, s] of setups.entries()) {
      const w = new Worker(fileURLToPath(new URL('./fleet-worker.js', import.meta.url)), {
        workerData: s,
        resourceLimits: { ...(YOUNG_MB ? { maxYoungGenerationSizeMb: YOUNG_MB } : {}), ...(OLD_MB ? { maxOldGenerationSizeMb: OLD_MB } : {}) },
      });
      this.inbox[i] = [];
      w.on('message', (m: ToMain) => {
        if (m.type === 'error') {
          console.error(`fleet worker ${i}: ${m.message}`);
          process.exitCode = 1;
        }
        this.inbox[i]!.shift()?.(m);
      });
      w.on('error', (err) => {
        console.error(`fleet worker ${i} died: ${err.stack ?? err}`);
        process.exit(1);
      });
      this.workers.push(w);
    }
  }

  /** Send `m` to every worker; resolves with their answers. */
  ask(m: ToWorker): Promise<ToMain[]> {
    return Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<ToMain>((resolve) => {
            this.inbox[i]!.push(resolve);
            w.postMessage(m);
          }),
      ),
    );
  }

  async stop(): Promise<void> {
    await this.ask({ type: 'stop' });
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A fresh replica's first snapshot: connect, receive, apply. */
async function snapshotSeconds(url: string, token: string): Promise<number> {
  const replica = new Replica();
  const feed = new FeedClient({ url, token, replica, userAgent: 'sixpn-fleet-bench' });
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => feed.subscribe({ snapshot: () => resolve() }));
  feed.start();
  await done;
  const s = (performance.now() - t0) / 1000;
  await feed.stop();
  return s;
}

const mib = (bytes: number): number => bytes / 1048576;
const log = (text: string): void => {
  console.log(text);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-fleet-'));
  let pg: PgCluster | null = null;
  let coord: BenchCoordinator | null = null;
  let fleet: Fleet | null = null;
  const cleanup = (): void => {
    coord?.stop();
    pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  try {
    const target = STORE === 'pg' ? { dbUrl: await (pg = await startPg()).createDb('fleet') } : { dataDir: dir };
    let t = performance.now();
    const seed = await seedFleet(target, { replicas: REPLICAS, orgs: ORGS, machines: MACHINES });
    log(`seeded ${STORE}: ${REPLICAS} hosts, ${ORGS} orgs, ${MACHINES} machines in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    coord = await BenchCoordinator.start(target);
    const rev0 = await coord.revision();

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const per = Math.ceil(REPLICAS / WORKERS);
    const setups: WorkerSetup[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const hosts = seed.hosts.slice(i * per, (i + 1) * per);
      if (hosts.length) setups.push({ url: coord.url, hosts, staggerMs: Math.max(1, Math.min(20, Math.floor(20_000 / REPLICAS))), resyncMs: RESYNC_MS });
    }
    t = performance.now();
    fleet = new Fleet(setups);
    const ready = await fleet.ask({ type: 'start', rev: rev0, timeoutMs: 300_000 });
    const notReady = ready.reduce((a, m) => a + (m.type === 'ready' ? m.late : 0), 0);
    const readyS = (performance.now() - t) / 1000;
    const rssReplicas = process.memoryUsage().rss;
    const replicaMiB = mib(rssReplicas - rssBefore) / REPLICAS;
    log(
      `fleet up: ${REPLICAS} replicas on ${setups.length} worker threads in ${readyS.toFixed(1)} s (${notReady} not converged); ${replicaMiB.toFixed(2)} MiB RSS per replica`,
    );

    const rssIdle = coord.rssMiB();
    const cpu0 = coord.cpuSeconds();
    const fleetCpu0 = process.cpuUsage(); // this process: every worker thread, and the load generator
    const mainCpu0 = threadCpuSeconds(process.pid, process.pid); // the load generator's thread
    t = performance.now();
    const load = await runLoad(coord.url, seed, { rate: RATE, seconds: SECONDS });
    const loadS = (performance.now() - t) / 1000;
    const loadSentS = load.sentS;
    const coordCpuS = coord.cpuSeconds() - cpu0;
    const coordCpu = coordCpuS / loadS;
    const rssLoad = coord.rssMiB();
    // The feed reads commits right after they happen; wait until the revision stops moving.
    let revEnd = await coord.revision();
    for (let again = -1; again !== revEnd;) {
      again = revEnd;
      await new Promise((r) => setTimeout(r, 200));
      revEnd = await coord.revision();
    }
    const results = await fleet.ask({ type: 'collect', rev: revEnd, timeoutMs: 120_000 });
    const convergedS = (performance.now() - t) / 1000;
    const fleetCpu = process.cpuUsage(fleetCpu0);
    const fleetCpuS = (fleetCpu.user + fleetCpu.system) / 1e6;
    // The replicas alone: every thread but the main one (the load generator and this bookkeeping).
    const workersCpuS = fleetCpuS - (threadCpuSeconds(process.pid, process.pid) - mainCpu0);
    const hist = newHist();
    const feedHist = newHist();
    let late = 0;
    let heap = 0;
    for (const r of results)
      if (r.type === 'result') {
        merge(hist, r.hist);
        merge(feedHist, r.feedHist);
        late += r.late;
        heap += r.heapUsed;
      }
    const rssAfter = process.memoryUsage().rss;
    const snapshotS = await snapshotSeconds(coord.url, seed.admin);
    const rssSnap = coord.rssMiB();

    const changes = revEnd - rev0;
    const p50 = quantile(hist, 0.5);
    const p99 = quantile(hist, 0.99);
    const max = hist.max;
    console.table([
      {
        store: STORE,
        replicas: REPLICAS,
        rate: RATE,
        seconds: SECONDS,
        machines_preloaded: MACHINES,
        requests: load.sent,
        failed: load.failed,
        skipped: load.skipped,
        changes,
        // replica-changes: each host gets only the changes of the orgs it runs (feed protocol 3)
        samples: hist.n,
        fanout: +(hist.n / Math.max(1, changes)).toFixed(1),
        late_replicas: late,
        p50_ms: p50,
        p99_ms: p99,
        max_ms: Math.round(max),
        all_converged_s: +convergedS.toFixed(1),
      },
    ]);
    // The same, up to the replica applying the change (before its DNS index and reconcile pass).
    log(
      `commit to replica applied: p50 ${quantile(feedHist, 0.5)} ms, p99 ${quantile(feedHist, 0.99)} ms, max ${Math.round(feedHist.max)} ms; load sent in ${loadSentS.toFixed(1)} s, answered in ${loadS.toFixed(1)} s`,
    );
    console.table([
      {
        coordinator_cpu_cores: +coordCpu.toFixed(2),
        coordinator_cpu_ms_per_change: +((coordCpuS * 1000) / Math.max(1, changes)).toFixed(2),
        replicas_cpu_s: +fleetCpuS.toFixed(1),
        cpu_us_per_replica_change: Math.round((fleetCpuS * 1e6) / Math.max(1, changes * REPLICAS)),
        workers_cpu_us_per_replica_change: Math.round((workersCpuS * 1e6) / Math.max(1, changes * REPLICAS)),
        workers_cpu_us_per_change_received: Math.round((workersCpuS * 1e6) / Math.max(1, hist.n)),
        coordinator_rss_idle_mib: Math.round(rssIdle),
        coordinator_rss_load_mib: Math.round(rssLoad),
        coordinator_rss_after_snapshot_mib: Math.round(rssSnap),
        coordinator_rss_peak_mib: Math.round(coord.peakRssMiB),
        replica_rss_mib: +replicaMiB.toFixed(2),
        replica_rss_after_load_mib: +(mib(rssAfter - rssBefore) / REPLICAS).toFixed(2),
        replica_heap_mib: +(mib(heap) / REPLICAS).toFixed(2),
        fresh_snapshot_s: +snapshotS.toFixed(2),
      },
    ]);
    if (load.firstError) console.log(`first failed request: ${load.firstError}`);
    if (late > 0 || load.failed > 0) process.exitCode = 1;
    log(
      `fleet: replicas=${REPLICAS} rate=${RATE} changes=${changes} p50_ms=${p50} p99_ms=${p99} max_ms=${Math.round(max)} coordinator_rss_mb=${Math.round(coord.peakRssMiB)} replica_rss_mb=${replicaMiB.toFixed(2)} snapshot_s=${snapshotS.toFixed(2)}`,
    );
  } finally {
    await fleet?.stop().catch(() => undefined);
    cleanup();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
