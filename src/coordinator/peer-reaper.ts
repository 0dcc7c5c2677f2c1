// Ephemeral peers (`wireguard create --ttl`) are removed when they expire,
// as an ordinary change in the feed, so the gateway carrying one drops it.
// One timer for the soonest expiry. New expiries are read from the feed hub's
// ring (this coordinator's commits and, on PostgreSQL, other coordinators'),
// so watching costs no query; each sweep asks the store for the next one.
// Several coordinators may sweep the same peer: the one that finds it removes it.
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { FeedHub } from './feed-hub.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_MS = 1000;

export class PeerReaper {
  private timer: NodeJS.Timeout | null = null;
  /** when the timer fires (epoch ms) */
  private due: number | null = null;
  private seen = 0;
  private scanning = false;
  private scanAgain = false;
  private off: (() => void) | null = null;
  private stopped = false;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly hub: FeedHub,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.seen = this.hub.revision;
    this.off = this.hub.onAdvance(() => this.scan());
    await this.next();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** Fire at `at` (epoch ms) unless the timer already fires sooner. */
  private schedule(at: number): void {
    if (this.stopped || (this.due !== null && this.due <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  /** Look at the changes since the last scan for peers created with an expiry. */
  private scan(): void {
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = true;
    void (async () => {
      do {
        this.scanAgain = false;
        for (;;) {
          const recs = await this.hub.changesAfter(this.seen);
          if (recs.length === 0) break;
          for (const r of recs) {
            for (const op of r.ops) {
              if (op.entity === 'peer' && op.op === 'upsert' && op.data.expires_at) this.schedule(Date.parse(op.data.expires_at));
            }
          }
          this.seen = recs[recs.length - 1]!.rev;
        }
      } while (this.scanAgain && !this.stopped);
    })()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'peer reaper: could not read the feed'))
      .finally(() => {
        this.scanning = false;
      });
  }

  private fire(): void {
    this.timer = null;
    this.due = null;
    if (this.stopped) return;
    this.sweeping = (async () => {
      try {
        const gone = await this.store.removeExpiredPeers();
        for (const p of gone) this.log.info({ org: p.org, peer: p.name, expires_at: p.expires_at }, 'ephemeral peer expired and removed');
        await this.next();
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err: String(err) }, 'peer reaper: sweep failed, retrying');
        this.schedule(Date.now() + RETRY_MS);
      }
    })();
  }

  /** Arm the timer for the soonest expiry in the store. */
  private async next(): Promise<void> {
    const at = await this.store.nextPeerExpiry();
    if (at !== null) this.schedule(Date.parse(at));
  }
}
