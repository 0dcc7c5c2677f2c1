// Coordinator scale: N hosts, M machines across K orgs through the real HTTP API
// of a coordinator child process. Prints creates/s, the coordinator's RSS, and the
// time to stream a full snapshot. Scale with BENCH_HOSTS, BENCH_MACHINES, BENCH_ORGS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, setGlobalDispatcher } from 'undici';
import { generateKeyPair } from '../src/wg/keys.js';
import { REGIONS } from '../src/model/regions.js';
import { cpuSeconds, rssMiB } from './procstat.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 100_000);
const ORGS = Number(process.env.BENCH_ORGS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

setGlobalDispatcher(new Agent({ connections: CONCURRENCY, pipelining: 1 }));

async function pool<T>(n: number, work: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) await work(i);
    }),
  );
}

export async function benchCoordinator(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-bench-'));
  const child = spawn(process.execPath, [MAIN, 'coordinator', '--data', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stderr!.on('data', (d: Buffer) => {
        out += d;
        const m = /"url":"([^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stdout!.on('data', () => undefined);
      child.on('exit', () => reject(new Error(`coordinator exited: ${out}`)));
    });
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown): Promise<void> => {
      const r = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    };
    const regions = REGIONS.filter((r) => r.code !== 'local');
    let t = performance.now();
    await pool(ORGS, (i) => post('/v1/orgs', { name: `org-${i}` }));
    await pool(ORGS, (i) => post('/v1/apps', { name: `app-${i}`, org: `org-${i}` }));
    await pool(HOSTS, (i) =>
      post('/v1/hosts', { region: regions[i % regions.length]!.code, endpoint: `198.51.100.${i % 250}:${51820 + i}`, public_key: generateKeyPair().publicKey }),
    );
    const setupS = (performance.now() - t) / 1000;
    t = performance.now();
    const cpu0 = cpuSeconds(child.pid!);
    await pool(MACHINES, (i) => post('/v1/machines', { app: `app-${i % ORGS}`, region: regions[i % regions.length]!.code }));
    const createS = (performance.now() - t) / 1000;
    // Creates per CPU-second of the coordinator: its capacity on one free core,
    // independent of the client and of whatever else the machine runs.
    const createCpuS = cpuSeconds(child.pid!) - cpu0;
    const rss = rssMiB(child.pid!);
    t = performance.now();
    const res = await fetch(`${url}/v1/watch?since=0`, { headers });
    const reader = res.body!.getReader();
    let bytes = 0;
    for (;;) {
      const { value } = await reader.read();
      if (!value) break;
      bytes += value.length;
      if (value.includes(10)) break; // the snapshot is the first line
    }
    const snapshotS = (performance.now() - t) / 1000;
    await reader.cancel();
    return {
      hosts: HOSTS,
      orgs: ORGS,
      machines: MACHINES,
      setup_s: +setupS.toFixed(2),
      creates_per_s: Math.round(MACHINES / createS),
      creates_per_cpu_s: Math.round(MACHINES / createCpuS),
      rss_mib: Math.round(rss),
      rss_after_snapshot_mib: Math.round(rssMiB(child.pid!)),
      snapshot_s: +snapshotS.toFixed(2),
      snapshot_mib: +(bytes / 1048576).toFixed(1),
    };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchCoordinator().then(
    (r) => {
      console.table([r]);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
