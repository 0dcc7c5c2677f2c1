// When reconcile passes run. Passes are serialized: a burst of changes
// during a pass makes one more pass, not one each, and a pass starts once the
// changes already received are applied (setImmediate). A pass can be forced (re-
// read everything from the devices): periodically, after a link event (a
// repair), after a handshake kick, and to retry a failed step, with backoff
// while it keeps failing.
import type { Logger } from '../log.js';
import { Timers } from './timers.js';

export interface PassResult {
  /** some step failed: retry with a forced pass */
  failed: boolean;
  /** force another pass this many ms from now (after a handshake kick) */
  forceAfterMs?: number;
}

export interface LoopOptions {
  pass(force: boolean): Promise<PassResult>;
  log: Logger;
  /** first retry after a failed step; doubles up to maxRetryMs while it keeps failing */
  retryMs?: number;
  maxRetryMs?: number;
  /** periodic forced pass (catches changes made behind our back); 0: none */
  resyncMs?: number;
  /** before each periodic pass: verify what passes trust from memory */
  beforeResync?: () => Promise<void>;
  /** link events come in bursts: wait this long, then one forced pass */
  repairDelayMs?: number;
  /** after the forced pass of a repair (machine health checks) */
  afterRepair?: () => Promise<void>;
}

export class ReconcileLoop {
  private readonly timers: Timers;
  private running: Promise<void> | null = null;
  private dirty = false;
  private forceNext = false;
  private stopped = false;
  private retryPending = false;
  private repairPending = false;
  private backoff: number;

  constructor(private readonly o: LoopOptions) {
    this.timers = new Timers(o.log);
    this.backoff = o.retryMs ?? 1000;
  }

  /** Start the periodic resync. */
  start(): void {
    const ms = this.o.resyncMs ?? 10_000;
    if (ms > 0) this.timers.every(ms, () => this.resync());
  }

  /** A pass now, or right after the one in flight; resolves when passes are done. */
  request(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force) this.forceNext = true;
    this.dirty = true;
    this.running ??= (async () => {
      try {
        // The records already received are applied first: one pass covers a backlog, not one pass each.
        await new Promise((r) => setImmediate(r));
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          const force = this.forceNext;
          this.forceNext = false;
          await this.runPass(force);
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async runPass(force: boolean): Promise<void> {
    let r: PassResult;
    try {
      r = await this.o.pass(force);
    } catch (err) {
      this.o.log.error({ err: String(err) }, 'reconcile pass failed');
      r = { failed: true };
    }
    if (r.forceAfterMs !== undefined) this.forceAfter(r.forceAfterMs);
    if (r.failed) this.retrySoon();
    else this.backoff = this.o.retryMs ?? 1000;
  }

  /** A forced pass `ms` from now. */
  forceAfter(ms: number): void {
    this.timers.after(ms, () => void this.request({ force: true }));
  }

  private retrySoon(): void {
    if (this.retryPending || this.stopped) return;
    this.retryPending = true;
    const ms = this.backoff;
    this.backoff = Math.min(ms * 2, this.o.maxRetryMs ?? 10_000);
    this.timers.after(ms, () => {
      this.retryPending = false;
      void this.request({ force: true });
    });
  }

  /** Something of ours changed behind our back (a link went away): a forced pass shortly. */
  repairSoon(): void {
    if (this.repairPending || this.stopped) return;
    this.repairPending = true;
    this.timers.after(this.o.repairDelayMs ?? 100, () => {
      this.repairPending = false;
      void (async () => {
        await this.request({ force: true });
        await this.o.afterRepair?.();
      })().catch((err: unknown) => this.o.log.error({ err: String(err) }, 'repair failed'));
    });
  }

  private async resync(): Promise<void> {
    await this.o.beforeResync?.();
    await this.request({ force: true });
  }

  /** No more passes; resolves when the one in flight is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.stop();
    await this.running?.catch(() => undefined);
  }
}
