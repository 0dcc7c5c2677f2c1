// `npm run bench -- health` (root): time from a machine's service dying to its
// address leaving `web.internal` on every host, with the real coordinator and
// agents on namespaces (lab/ MeshLab; the set-up of test/e2e/health.test.ts).
// One machine runs an HTTP server under a restart loop with
// `--check http:8080/ --check-interval 1s`; a plain machine keeps the app
// answering. Each trial waits until every host answers the checked machine,
// sleeps a random part of the interval (so the kill falls anywhere in the
// check round), SIGKILLs the server and times until each host's DNS, asked
// every 2 ms by a probe in a machine on that host, no longer has the address;
// then lets the server come back.
//
// Env: HEALTH_TRIALS (default 50), HEALTH_HOSTS (default 2, up to 4).
// Ends with one line:
//   health: hosts=H trials=N interval_s=1 p50_ms=X p99_ms=Y max_ms=Z back_p50_ms=B
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Machine } from '../src/model/types.js';
import { MeshLab } from '../lab/meshlab.js';
import { envNumber, pct } from './percentile.js';

const TRIALS = Math.max(1, envNumber('HEALTH_TRIALS', 50));
const HOSTS = Math.min(4, Math.max(1, envNumber('HEALTH_HOSTS', 2)));
const INTERVAL_S = 1;
const REGIONS = ['ams', 'iad', 'nrt', 'syd'].slice(0, HOSTS);
const PROBE = fileURLToPath(new URL('./health-probe.js', import.meta.url));
const SERVER = 'while :; do if [ -e down ]; then sleep 0.05; else python3 -m http.server 8080 --bind ::; fi; done';
const now = (): number => performance.timeOrigin + performance.now();

/** A probe process in a machine's namespace; `ask` resolves with the wall time it saw the answer change. */
class Probe {
  private readonly waiting = new Map<string, (t: number) => void>();
  private constructor(readonly proc: ChildProcess) {}

  static async start(machineId: string): Promise<Probe> {
    const proc = spawn('ip', ['netns', 'exec', `sixpn-${machineId}`, process.execPath, PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
    const p = new Probe(proc);
    const lines = createInterface({ input: proc.stdout! });
    await new Promise<void>((res, rej) => {
      lines.once('line', () => res());
      proc.once('exit', (code) => rej(new Error(`probe exited ${code}`)));
    });
    lines.on('line', (l) => {
      const [tag, t] = l.split(' ');
      p.resolveTag(tag!, Number(t));
    });
    return p;
  }

  resolveTag(tag: string, t: number): void {
    this.waiting.get(tag)?.(t);
    this.waiting.delete(tag);
  }

  ask(tag: string, name: string, address: string, what: 'gone' | 'back', timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${tag}: ${address} not ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(tag, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      this.proc.stdin!.write(`${tag} ${name} ${address} ${what}\n`);
    });
  }
}

/** The pid of the machine's Python server (its sandboxed processes share the root pid namespace). */
function serverPid(machineId: string): number | undefined {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'python3') continue;
      if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('http.server')) continue;
      if (readFileSync(`/proc/${p}/environ`, 'utf8').includes(`SIXPN_MACHINE_ID=${machineId}`)) return Number(p);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/wireguard-go')) {
    console.log('health bench skipped: needs root and wireguard-go');
    return;
  }
  const w = await MeshLab.start({ logLevel: 'warn' });
  const probes: Probe[] = [];
  try {
    await Promise.all(REGIONS.map((r) => w.addHost(r)));
    await w.api('POST', '/v1/orgs', { name: 'bench' });
    for (const app of ['web', 'probe']) await w.api('POST', '/v1/apps', { name: app, org: 'bench' });
    const web = await w.createMachine('web', REGIONS[0]!, {
      checks: ['http:8080/'],
      check_interval: INTERVAL_S,
      command: ['sh', '-c', SERVER],
    });
    const plain = await w.createMachine('web', REGIONS[REGIONS.length - 1]!);
    const queriers: Machine[] = [];
    for (const r of REGIONS) queriers.push(await w.createMachine('probe', r));
    await Promise.all([web, plain, ...queriers].map((m) => w.attached(m, 90_000)));
    for (const q of queriers) probes.push(await Probe.start(q.id));
    const down = join(w.agent(REGIONS[0]!).stateDir, 'work', web.id, 'down');

    const gone: number[] = [];
    const perHost: number[] = [];
    const back: number[] = [];
    let seq = 0;
    const all = async (what: 'gone' | 'back'): Promise<number[]> => {
      const tag = `t${++seq}`;
      return Promise.all(probes.map((p) => p.ask(tag, 'web.internal', web.address, what)));
    };
    await all('back');
    for (let i = 0; i < TRIALS; i++) {
      await sleep(Math.random() * INTERVAL_S * 1000);
      writeFileSync(down, '');
      const pid = serverPid(web.id);
      if (!pid) throw new Error('no python3 http.server in the machine');
      const seen = all('gone');
      const t0 = now();
      process.kill(pid, 'SIGKILL');
      const ts = (await seen).map((t) => Math.max(0, t - t0));
      gone.push(Math.max(...ts));
      perHost.push(...ts);
      rmSync(down);
      const t1 = now();
      back.push(Math.max(...(await all('back'))) - t1);
    }
    const f = (x: number): string => x.toFixed(0);
    const row = (cells: string[]): void => console.log(cells.map((c) => c.padEnd(22)).join(' '));
    console.log(
      `\nservice dead → out of DNS: ${TRIALS} trials, ${HOSTS} hosts, check http:8080/ every ${INTERVAL_S} s; server SIGKILLed at a random point of the round → web.internal without it (each host's DNS asked every 2 ms from a machine on it)`,
    );
    row(['metric', 'p50 ms', 'p99 ms', 'max ms']);
    row(['gone on every host', f(pct(gone, 50)), f(pct(gone, 99)), f(Math.max(...gone))]);
    row(['gone, each host', f(pct(perHost, 50)), f(pct(perHost, 99)), f(Math.max(...perHost))]);
    row(['back (server restart)', f(pct(back, 50)), f(pct(back, 99)), f(Math.max(...back))]);
    console.log(
      `health: hosts=${HOSTS} trials=${TRIALS} interval_s=${INTERVAL_S} p50_ms=${f(pct(gone, 50))} p99_ms=${f(pct(gone, 99))} max_ms=${f(Math.max(...gone))} back_p50_ms=${f(pct(back, 50))}`,
    );
  } finally {
    for (const p of probes) p.proc.kill('SIGKILL');
    await w.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
