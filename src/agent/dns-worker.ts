// The host's DNS server in a worker thread of the agent. Same process (same
// network namespace, same replica contents), but its own event loop: the
// agent's converge passes spawn `ip`, `wg` and `nft`, and every spawn blocks
// a Node thread for milliseconds; DNS answers must not wait for that.
//
// The worker keeps its own Replica, fed with the agent's replica updates
// (changes as they come, a snapshot after a resync).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Upstream } from '../dns/forward.js';
import type { ReplicaUpdate, Replica } from '../feed/replica.js';
import type { Logger } from '../log.js';
import type { ChangeOp, State } from '../model/types.js';
import type { ReplicaMark } from './host-report.js';

interface Init {
  listen: { host: string; port: number }[];
  upstreams: Upstream[];
  prefix: number;
  logLevel: string;
  /** the parent logger's bindings (name, component…): the worker's lines read as the parent's */
  logBindings: Record<string, unknown>;
  snapshot: { rev: number; state: State } | null;
}

type ToWorker = { snapshot: { rev: number; state: State } } | { change: { rev: number; ops: ChangeOp[] } } | { close: true };
type FromWorker = { ready: { host: string; port: number }[] } | { failed: string } | { applied: number };

export interface DnsWorker {
  addresses: { host: string; port: number }[];
  /** the worker's replica: the revision it last applied and when (for the host's report) */
  readonly mark: ReplicaMark;
  close(): Promise<void>;
}

/** Start the worker and keep it in step with `replica`. */
export async function startDnsWorker(o: {
  replica: Replica;
  listen: Init['listen'];
  upstreams?: Upstream[];
  prefix: number;
  logger: Logger;
}): Promise<DnsWorker> {
  const snapshot = (): { rev: number; state: State } | null => (o.replica.ready ? { rev: o.replica.rev, state: o.replica.toState() } : null);
  let closing = false;
  let worker!: Worker;
  let addresses: { host: string; port: number }[] = [];
  const mark: ReplicaMark = { rev: 0, at: null };

  const spawnWorker = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const init: Init = {
        listen: o.listen,
        upstreams: o.upstreams ?? [],
        prefix: o.prefix,
        logLevel: o.logger.level,
        logBindings: o.logger.bindings(),
        snapshot: snapshot(),
      };
      let ready = false;
      worker = new Worker(new URL(import.meta.url), { workerData: init });
      // The worker says which revision it has applied: a stuck worker shows as feed lag.
      worker.on('message', (m: FromWorker) => {
        if (!('applied' in m)) return;
        mark.rev = m.applied;
        mark.at = Date.now();
      });
      worker.once('message', (m: FromWorker) => {
        if ('ready' in m) {
          ready = true;
          addresses = m.ready;
          resolve();
        } else reject(new Error(`dns worker: ${'failed' in m ? m.failed : 'no ready message'}`));
      });
      worker.once('error', (err) => {
        if (!ready) reject(err);
        else o.logger.error({ err: String(err) }, 'dns worker error');
      });
      worker.once('exit', (code) => {
        if (!ready) {
          reject(new Error(`dns worker exited with ${code} before listening`));
          return;
        }
        if (closing) return;
        // Crashed while serving: start another from the current replica.
        o.logger.error({ code }, 'dns worker exited; restarting');
        setTimeout(() => {
          if (!closing) spawnWorker().catch((err: unknown) => o.logger.error({ err: String(err) }, 'dns worker restart failed'));
        }, 500).unref();
      });
    });

  // Subscribed first: updates during the worker's boot queue on its port
  // (those already in its snapshot are skipped by revision).
  const unsubscribe = o.replica.subscribe((u: ReplicaUpdate) => {
    const msg: ToWorker = u.ops === null ? { snapshot: snapshot()! } : { change: { rev: u.rev, ops: u.ops } };
    worker.postMessage(msg);
  });
  try {
    await spawnWorker();
  } catch (err) {
    unsubscribe();
    throw err;
  }
  return {
    get addresses() {
      return addresses;
    },
    mark,
    async close() {
      closing = true;
      unsubscribe();
      const exited = new Promise((r) => worker.once('exit', r));
      worker.postMessage({ close: true } satisfies ToWorker);
      const t = setTimeout(() => void worker.terminate(), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function runWorker(init: Init): Promise<void> {
  const port = parentPort!;
  const [{ Replica }, { startDnsServer }, { createLogger }] = await Promise.all([
    import('../feed/replica.js'),
    import('../dns/server.js'),
    import('../log.js'),
  ]);
  const replica = new Replica();
  if (init.snapshot) replica.applySnapshot(init.snapshot.rev, init.snapshot.state);
  const { name, ...bindings } = init.logBindings;
  const logger = createLogger(typeof name === 'string' ? name : 'agent', init.logLevel).child(bindings);
  try {
    const server = await startDnsServer({ replica, listen: init.listen, upstreams: init.upstreams, prefix: init.prefix, logger });
    port.on('message', (m: ToWorker) => {
      if ('snapshot' in m) replica.applySnapshot(m.snapshot.rev, m.snapshot.state);
      else if ('change' in m) replica.applyChange({ rev: m.change.rev, at: '', ops: m.change.ops });
      else {
        void server.close().then(() => port.close());
        return;
      }
      port.postMessage({ applied: replica.rev } satisfies FromWorker);
    });
    port.postMessage({ ready: server.addresses } satisfies FromWorker);
    if (replica.ready) port.postMessage({ applied: replica.rev } satisfies FromWorker);
  } catch (err) {
    port.postMessage({ failed: (err as Error).message ?? String(err) } satisfies FromWorker);
    port.close();
  }
}

if (!isMainThread && (workerData as Init | undefined)?.listen) void runWorker(workerData as Init);
