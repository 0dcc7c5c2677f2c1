// Small process helpers: liveness that survives pid reuse, and a log-file
// tail that forwards a machine's output into the agent's log.
import { closeSync, existsSync, openSync, readSync, readFileSync, statSync } from 'node:fs';
import type { Logger } from '../log.js';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); null when gone or a zombie. */
export function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number, start: string | null): boolean {
  const s = procStart(pid);
  return s !== null && (start === null || s === start);
}

/**
 * Follows a file by polling (the writer is a detached process that must
 * survive agent restarts, so it writes to a file rather than to our pipe).
 */
export class LogTail {
  private offset: number;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;

  /** from: the start, the current end, or a byte offset (the end taken before the writer started). */
  constructor(private readonly file: string, private readonly log: Logger, from: boolean | number, private readonly intervalMs = 200) {
    this.offset = typeof from === 'number' ? from : from && existsSync(file) ? statSync(file).size : 0;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  poll(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // truncated
    if (size === this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buf.subarray(0, n).toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.log.info({ stream: 'output' }, line);
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
    if (this.partial) this.log.info({ stream: 'output' }, this.partial);
    this.partial = '';
  }
}
