// The fleet bench's coordinator: a `sixpn coordinator` child process on the
// seeded store, sampled for CPU and RSS while the bench runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../testkit/pg.js';
import { cpuSeconds, rssMiB } from './procstat.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export class BenchCoordinator {
  peakRssMiB = 0;
  private sampler: NodeJS.Timeout | null = null;
  private stderr = '';

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.sampler = setInterval(() => this.sample(), 250);
  }

  static async start(store: { dataDir?: string; dbUrl?: string }): Promise<BenchCoordinator> {
    const port = await freePort();
    const where = store.dbUrl ? ['--db', store.dbUrl] : ['--data', store.dataDir!];
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'coordinator',
        ...where,
        '--listen',
        `127.0.0.1:${port}`,
        '--log-level',
        'error',
        // The simulated hosts send no heartbeats: never count them unreachable.
        '--host-timeout',
        '24h',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const c = new BenchCoordinator(`http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`coordinator exited (${child.exitCode}): ${c.stderr}`);
      const ok = await fetch(`${c.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return c;
      if (Date.now() > deadline) {
        c.stop();
        throw new Error(`coordinator did not come up: ${c.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get pid(): number {
    return this.child.pid!;
  }
  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }
  rssMiB(): number {
    return this.sample();
  }

  private sample(): number {
    const v = this.child.exitCode === null ? rssMiB(this.pid) : NaN;
    if (v > this.peakRssMiB) this.peakRssMiB = v;
    return v;
  }

  /** The newest revision the coordinator's feed has read (its /metrics). */
  async revision(): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const m = /^sixpn_coordinator_revision (\d+)/m.exec(text);
    if (!m) throw new Error('no sixpn_coordinator_revision in /metrics');
    return Number(m[1]);
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
