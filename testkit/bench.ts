// Run a compiled bench script (dist/bench/NAME.js) as its own process, for the
// smoke tests that keep the benchmarks from rotting (no figure is asserted).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BenchRun {
  code: number | null;
  out: string;
  err: string;
  /** the last line of stdout */
  last: string;
}

export function runBench(name: string, env: Record<string, string>): Promise<BenchRun> {
  const file = fileURLToPath(new URL(`../bench/${name}.js`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.trimEnd().split('\n');
      resolve({ code, out, err, last: lines[lines.length - 1] ?? '' });
    });
  });
}
