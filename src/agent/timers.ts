// The agent's timers in one place, so stopping clears them all. None keeps
// the process alive (unref); a periodic task never overlaps itself.
import type { Logger } from '../log.js';

export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  /** Run `f` every `ms`, skipping a tick while the previous run is still going. */
  every(ms: number, f: () => Promise<void>): void {
    if (this.stopped) return;
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      f()
        .catch((err: unknown) => this.log.error({ err: String(err) }, 'periodic task failed'))
        .finally(() => {
          busy = false;
        });
    }, ms);
    t.unref();
    this.live.add(t);
  }

  /** Run `f` once after `ms`; returns a cancel. */
  after(ms: number, f: () => void): () => void {
    if (this.stopped) return () => undefined;
    const t = setTimeout(() => {
      this.live.delete(t);
      if (!this.stopped) f();
    }, ms);
    t.unref();
    this.live.add(t);
    return () => {
      clearTimeout(t);
      this.live.delete(t);
    };
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.live) clearTimeout(t); // clears intervals too
    this.live.clear();
  }
}
