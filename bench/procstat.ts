// CPU and memory of another process, from /proc (Linux).
import { readFileSync } from 'node:fs';

const readProc = (path: string): string => readFileSync(path, 'utf8');

/** user+system CPU seconds the process has used (clock ticks are 100/s on Linux). */
export function cpuSeconds(pid: number): number {
  const f = readProc(`/proc/${pid}/stat`).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds of one thread (`tid`) of a process; the main thread's tid is the pid. */
export function threadCpuSeconds(pid: number, tid: number): number {
  const f = readProc(`/proc/${pid}/task/${tid}/stat`).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
