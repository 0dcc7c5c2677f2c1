// Small process helpers: liveness that survives pid reuse, and a log-file
// tail that forwards a machine's output into the agent's log.
import { closeSync, existsSync, openSync, readSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
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

/** Limits on a machine's output (a machine must not be able to grow the agent or fill the disk). */
export interface LogTailLimits {
  intervalMs?: number;
  /** a longer line is cut here (the rest of it dropped, with a marker); default 16 KiB */
  maxLineBytes?: number;
  /** a longer file is rotated: its last part kept as FILE.1, FILE truncated; default 10 MB */
  maxFileBytes?: number;
}

export const MAX_LINE_BYTES = 16 * 1024;
export const MAX_LOG_BYTES = 10 * 1000 * 1000;
const READ_BYTES = 1 << 20;

/**
 * Follows a file by polling (the writer is a detached process that must
 * survive agent restarts, so it writes to a file rather than to our pipe).
 * Memory is bounded whatever the writer does: at most one read buffer and one
 * line of `maxLineBytes`; a line without end is cut and the rest dropped.
 */
export class LogTail {
  private offset: number;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** inside a line that was cut: bytes dropped until its newline */
  private dropping = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly maxLine: number;
  private readonly maxFile: number;
  private readonly intervalMs: number;

  /** from: the start, the current end, or a byte offset (the end taken before the writer started). */
  constructor(
    private readonly file: string,
    private readonly log: Logger,
    from: boolean | number,
    limits: LogTailLimits = {},
  ) {
    this.offset = typeof from === 'number' ? from : from && existsSync(file) ? statSync(file).size : 0;
    this.maxLine = limits.maxLineBytes ?? MAX_LINE_BYTES;
    this.maxFile = limits.maxFileBytes ?? MAX_LOG_BYTES;
    this.intervalMs = limits.intervalMs ?? 200;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  poll(): void {
    if (!existsSync(this.file)) return;
    let size = statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // truncated
    if (size > this.maxFile) size = this.rotate(size);
    if (size === this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, READ_BYTES));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      this.feed(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }

  private feed(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (!this.dropping) {
        const room = this.maxLine - this.partialBytes;
        this.keep(piece.subarray(0, room));
        if (piece.length > room) {
          this.emit(` [line cut at ${this.maxLine} bytes; the rest of it is dropped]`);
          this.dropping = true;
        }
      }
      if (nl === -1) return;
      if (this.dropping) this.dropping = false;
      else this.emit('');
      start = nl + 1;
    }
  }

  private keep(b: Buffer): void {
    if (!b.length) return;
    this.partial.push(Buffer.from(b)); // a copy: the read buffer is not kept alive
    this.partialBytes += b.length;
  }

  private emit(suffix: string): void {
    const line = Buffer.concat(this.partial).toString('utf8') + suffix;
    this.partial = [];
    this.partialBytes = 0;
    this.log.info({ stream: 'output' }, line);
  }

  /**
   * The file is over its limit: its last `maxFileBytes` go to FILE.1 (the one
   * old file kept), FILE is truncated (the writer appends, O_APPEND, so it
   * goes on at the start). Output not yet read is skipped. Returns the new size.
   */
  private rotate(size: number): number {
    const keepFrom = Math.max(0, size - this.maxFile);
    const src = openSync(this.file, 'r');
    const dst = openSync(`${this.file}.1`, 'w', 0o600);
    try {
      const buf = Buffer.alloc(Math.min(READ_BYTES, size - keepFrom));
      for (let pos = keepFrom; pos < size;) {
        const n = readSync(src, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n <= 0) break;
        writeSync(dst, buf, 0, n);
        pos += n;
      }
    } finally {
      closeSync(src);
      closeSync(dst);
    }
    truncateSync(this.file, 0);
    this.log.warn(
      { stream: 'output', file: this.file, bytes: size, skipped: size - this.offset },
      `machine log over ${this.maxFile} bytes: rotated (its last part kept in ${this.file}.1), unread output skipped`,
    );
    this.offset = 0;
    this.partial = [];
    this.partialBytes = 0;
    this.dropping = false;
    return statSync(this.file).size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
    if (this.partialBytes && !this.dropping) this.emit('');
    this.partial = [];
    this.partialBytes = 0;
    this.dropping = false;
  }
}
