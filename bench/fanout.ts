// `npm run bench -- fanout`: what one more watcher costs the coordinator per
// change. A coordinator process, FANOUT_WATCHERS raw /v1/watch streams (this
// process reads and drops their bytes), FANOUT_CHANGES changes through the API
// (the fleet bench's load mix); its CPU is read from /proc once every watcher
// has every change, and again with no watcher: the difference per change and
// watcher is the fan-out cost. Ends with
// `fanout: watchers=W changes=C cpu_ms_per_change=X cpu_ms_per_change_unwatched=Y per_watcher_us=Z`.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, setGlobalDispatcher } from 'undici';
import { BenchCoordinator } from './fleet-coordinator.js';
import { runLoad } from './fleet-load.js';
import { seedFleet, type Seed } from './fleet-seed.js';

const WATCHERS = Number(process.env.FANOUT_WATCHERS ?? 500);
const CHANGES = Number(process.env.FANOUT_CHANGES ?? 1000);
const RATE = Number(process.env.FANOUT_RATE ?? 200);

setGlobalDispatcher(new Agent({ connections: 32 }));

/** A raw watch from `since`: counts the revisions of the change lines it reads. */
function watch(url: string, token: string, since: number): { last: () => number; close: () => void } {
  let last = since;
  let tail = '';
  const req = http.get(`${url}/v1/watch?since=${since}`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      const text = tail + c;
      const cut = text.lastIndexOf('\n');
      tail = text.slice(cut + 1);
      for (const m of text.slice(0, cut).matchAll(/"type":"change","rev":(\d+)/g)) last = Number(m[1]);
    });
  });
  req.on('error', () => undefined);
  return { last: () => last, close: () => req.destroy() };
}

/** Coordinator CPU ms per change with `n` watchers reading every change. */
async function round(coord: BenchCoordinator, seed: Seed, n: number): Promise<number> {
  const rev0 = await coord.revision();
  const ws = Array.from({ length: n }, () => watch(coord.url, seed.admin, rev0));
  await new Promise((r) => setTimeout(r, 1000)); // every stream open and idle
  const cpu0 = coord.cpuSeconds();
  await runLoad(coord.url, seed, { rate: RATE, seconds: CHANGES / RATE });
  let rev = await coord.revision();
  for (let again = -1; again !== rev;) {
    again = rev;
    await new Promise((r) => setTimeout(r, 200));
    rev = await coord.revision();
  }
  const deadline = Date.now() + 120_000;
  while (ws.some((w) => w.last() < rev) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpu = coord.cpuSeconds() - cpu0;
  const behind = ws.filter((w) => w.last() < rev).length;
  for (const w of ws) w.close();
  if (behind) throw new Error(`${behind} watchers did not get every change`);
  return (cpu * 1000) / (rev - rev0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-fanout-'));
  let coord: BenchCoordinator | null = null;
  try {
    const seed = await seedFleet({ dataDir: dir }, { replicas: 1, orgs: 1, machines: 100 });
    coord = await BenchCoordinator.start({ dataDir: dir });
    await round(coord, seed, 0); // warm-up
    const alone = await round(coord, seed, 0);
    const watched = await round(coord, seed, WATCHERS);
    const perWatcherUs = ((watched - alone) * 1000) / WATCHERS;
    console.table([
      { watchers: WATCHERS, changes: CHANGES, cpu_ms_per_change: +watched.toFixed(2), unwatched: +alone.toFixed(2), per_watcher_us: +perWatcherUs.toFixed(1) },
    ]);
    console.log(
      `fanout: watchers=${WATCHERS} changes=${CHANGES} cpu_ms_per_change=${watched.toFixed(2)} cpu_ms_per_change_unwatched=${alone.toFixed(2)} per_watcher_us=${perWatcherUs.toFixed(1)}`,
    );
  } finally {
    coord?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
