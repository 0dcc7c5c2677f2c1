// Machine state reports to the coordinator, delivered at least once: the
// latest report per machine is kept and retried with backoff while the
// coordinator is unreachable.
import type { Logger } from '../log.js';
import { ApiError, type CoordinatorApi } from '../client/api.js';

export interface Report {
  /** started: attached (and answered by this host's DNS) */
  state: 'started' | 'stopped' | 'failed';
  reason: string | null;
}

export class StatusReporter {
  private readonly pending = new Map<string, Report>();
  private timer: NodeJS.Timeout | null = null;
  private backoff = 250;
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly api: CoordinatorApi,
    private readonly log: Logger,
  ) {}

  report(machineId: string, r: Report): void {
    this.pending.set(machineId, r);
    this.log.info({ machine: machineId, state: r.state, reason: r.reason }, 'machine state report queued');
    this.schedule(0);
  }

  /** Drop a queued report (the machine is gone from desired state anyway). */
  forget(machineId: string): void {
    this.pending.delete(machineId);
  }

  get size(): number {
    return this.pending.size;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    let failed = false;
    try {
      for (const [id, r] of [...this.pending]) {
        try {
          await this.api.reportMachine(id, r.state, r.reason);
          if (this.pending.get(id) === r) this.pending.delete(id);
          this.log.info({ machine: id, state: r.state }, 'machine state reported');
        } catch (err) {
          // 4xx other than 429: the coordinator will never take it (machine gone, not ours).
          if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
            this.log.warn({ machine: id, err: err.message }, 'machine state report rejected');
            if (this.pending.get(id) === r) this.pending.delete(id);
            continue;
          }
          failed = true;
          this.log.warn({ machine: id, err: String(err) }, 'machine state report failed; will retry');
        }
      }
    } finally {
      this.flushing = false;
    }
    if (failed) {
      this.backoff = Math.min(this.backoff * 2, 10_000);
      this.schedule(this.backoff);
    } else {
      this.backoff = 250;
      if (this.pending.size) this.schedule(0);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
