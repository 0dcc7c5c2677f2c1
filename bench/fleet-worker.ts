// A worker thread of the fleet bench: runs many simulated hosts (fleet-host.ts)
// on one event loop and answers the main thread's requests (fleet-protocol.ts).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { SimHost } from './fleet-host.js';
import type { ToMain, ToWorker, WorkerSetup } from './fleet-protocol.js';
import { newHist } from './fleet-stats.js';

const setup = workerData as WorkerSetup;
const commits = new Map<number, number>();
const hist = newHist();
const feedHist = newHist();
const hosts = setup.hosts.map(
  (h) => new SimHost({ url: setup.url, hostId: h.hostId, token: h.token, privateKey: h.privateKey, commits, hist, feedHist, resyncMs: setup.resyncMs }),
);
const port = parentPort!;
// FLEET_CPU_PROFILE=DIR: a CPU profile of this worker over the load only (not the start-up's
// snapshots); FLEET_HEAP_PROFILE=DIR: a sampling profile of what the load allocates.
const cpuDir = process.env.FLEET_CPU_PROFILE;
const heapDir = process.env.FLEET_HEAP_PROFILE;
let profiler: Session | null = null;
async function profileStart(): Promise<void> {
  if (!cpuDir && !heapDir) return;
  profiler = new Session();
  profiler.connect();
  if (cpuDir) {
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  if (heapDir)
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
}
async function profileStop(): Promise<void> {
  if (!profiler) return;
  if (cpuDir) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(cpuDir, `fleet-worker-${threadId}.cpuprofile`), JSON.stringify(profile));
  }
  if (heapDir) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    writeFileSync(join(heapDir, `fleet-worker-${threadId}.heapprofile`), JSON.stringify(profile));
  }
  profiler.disconnect();
  profiler = null;
}
const send = (m: ToMain): void => port.postMessage(m);

/** Until every host's pass covered `rev`, or the deadline; returns how many did not. */
async function converge(rev: number, timeoutMs: number): Promise<number> {
  let late = 0;
  const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
  await Promise.race([Promise.all(hosts.map((h) => h.until(rev))), deadline]);
  for (const h of hosts) if (h.converged < rev) late++;
  return late;
}

port.on('message', (m: ToWorker) => {
  void (async () => {
    switch (m.type) {
      case 'start': {
        // Staggered: a thousand snapshots at once would be a thundering herd, not the steady state measured.
        for (const h of hosts) {
          await h.start();
          await new Promise((r) => setTimeout(r, setup.staggerMs));
        }
        const late = await converge(m.rev, m.timeoutMs);
        await profileStart();
        send({ type: 'ready', late });
        break;
      }
      case 'collect': {
        const late = await converge(m.rev, m.timeoutMs);
        await profileStop();
        send({ type: 'result', late, hist, feedHist, heapUsed: getHeapStatistics().used_heap_size });
        break;
      }
      case 'stop':
        await Promise.all(hosts.map((h) => h.stop()));
        send({ type: 'stopped' });
        port.close();
        break;
    }
  })().catch((err: unknown) => send({ type: 'error', message: String((err as Error)?.stack ?? err) }));
});
