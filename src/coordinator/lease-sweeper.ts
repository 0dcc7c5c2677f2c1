// Ends expired leases: a timer set to the earliest expiry in the store, so a
// lease whose holder stopped renewing (its host is gone or cut off) leaves
// DNS and its machine record on time. Idempotent: several coordinators on one
// PostgreSQL may all sweep.
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

/** Check at least this often (another coordinator may have granted a lease we never saw). */
const MAX_WAIT_MS = 5_000;

export class LeaseSweeper {
  private timer: NodeJS.Timeout | null = null;
  private due = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.at(Date.now());
  }

  /** A lease now expires at `ms` (epoch): sweep then, unless a sweep is due sooner. */
  at(ms: number): void {
    if (this.closed || ms >= this.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = ms;
    this.timer = setTimeout(() => void this.sweep(), Math.max(0, ms - Date.now()) + 5);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    this.timer = null;
    this.due = Number.POSITIVE_INFINITY;
    let next: number | null = null;
    try {
      next = await this.store.expireLeases();
    } catch (err) {
      if (!this.closed) this.log.warn({ err: String(err) }, 'lease sweep failed; will retry');
    }
    this.at(Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + MAX_WAIT_MS));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
