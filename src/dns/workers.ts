// `--workers N`: N processes answer UDP on the same sockets. Node 20's dgram
// has no SO_REUSEPORT (the `reusePort` option exists from 22.12/23.1), so the
// primary binds each socket and hands its descriptor to N-1 forked workers
// over IPC, the way the cluster module shares UDP handles: the kernel gives
// each datagram to whichever process reads first. Worker threads cannot do
// this (a handle cannot move to a thread). The primary keeps the feed and
// TCP; each worker keeps a replica fed from the primary's updates (snapshot,
// then change records, in order) and its own index, engine and cache.
import { fork, type ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { Replica, ReplicaUpdate } from '../feed/replica.js';
import type { Logger } from '../log.js';
import type { CacheCounts } from './cache.js';
import type { DnsStats } from './stats.js';
import type { ToPrimary, ToWorker, WorkerConfig } from './worker-protocol.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker.js', import.meta.url));
const RESTART_MS = 1000;
const STOP_MS = 3000;

export interface WorkerPool {
  /** cache counters summed over the workers (as last reported) */
  readonly cache: CacheCounts;
  readonly pids: number[];
  close(): Promise<void>;
}

interface Worker {
  child: ChildProcess;
  cache: CacheCounts;
}

export async function startWorkerPool(o: {
  count: number;
  replica: Replica;
  sockets: dgram.Socket[];
  config: WorkerConfig;
  log: Logger;
  /** the primary's counters: workers' query counts are added into them */
  stats?: DnsStats;
}): Promise<WorkerPool> {
  const workers = new Set<Worker>();
  // counts of workers that exited, so the summed counters never go back
  const retired = { hits: 0, misses: 0, evictions: 0 };
  let closing = false;

  const send = (w: Worker, m: ToWorker, handle?: dgram.Socket): void => {
    if (w.child.connected) w.child.send(m, handle as never);
  };
  const snapshot = (): ToWorker => ({ t: 'snapshot', rev: o.replica.rev, state: o.replica.toState() });
  const onUpdate = (u: ReplicaUpdate): void => {
    if (workers.size === 0) return;
    const m: ToWorker = u.ops === null ? snapshot() : { t: 'change', rec: { rev: u.rev, at: '', ops: u.ops } };
    for (const w of workers) send(w, m);
  };
  const unsubscribe = o.replica.subscribe(onUpdate);

  const spawn = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = fork(WORKER_MAIN, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const w: Worker = { child, cache: { hits: 0, misses: 0, evictions: 0, size: 0 } };
      workers.add(w);
      let ready = false;
      child.on('message', (m: ToPrimary) => {
        if (m.t === 'ready') {
          ready = true;
          o.log.info({ worker: child.pid }, 'dns worker serving');
          resolve();
          return;
        }
        if (m.t === 'stats') {
          w.cache = m.cache;
          o.stats?.add(m.queries, m.buckets, m.sum, m.count);
        }
      });
      child.once('exit', (code, signal) => {
        workers.delete(w);
        retired.hits += w.cache.hits;
        retired.misses += w.cache.misses;
        retired.evictions += w.cache.evictions;
        if (!ready) {
          reject(new Error(`dns worker exited before serving (code ${code}, signal ${signal})`));
          return;
        }
        if (closing) return;
        // The others keep answering on the shared sockets meanwhile.
        o.log.error({ worker: child.pid, code, signal }, 'dns worker died; restarting');
        setTimeout(() => {
          if (!closing) spawn().catch((err: unknown) => o.log.error({ err: String(err) }, 'dns worker restart failed'));
        }, RESTART_MS).unref();
      });
      send(w, { t: 'init', config: o.config, sockets: o.sockets.length });
      for (const s of o.sockets) send(w, { t: 'socket' }, s);
      if (o.replica.ready) send(w, snapshot());
    });

  const close = async (): Promise<void> => {
    closing = true;
    unsubscribe();
    await Promise.all(
      [...workers].map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        if (child.connected) child.send({ t: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  };

  try {
    for (let i = 0; i < o.count; i++) await spawn();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    get cache(): CacheCounts {
      const t = { ...retired, size: 0 };
      for (const w of workers) {
        t.hits += w.cache.hits;
        t.misses += w.cache.misses;
        t.evictions += w.cache.evictions;
        t.size += w.cache.size;
      }
      return t;
    },
    get pids(): number[] {
      return [...workers].map((w) => w.child.pid!);
    },
    close,
  };
}
