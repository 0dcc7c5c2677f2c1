// The open streams of each token (the feed's /v1/watch, the dashboard's
// /v1/ui/stream), so that revoking a token or its expiry ends them at once:
// a revocation through this coordinator ends them in the revoking request;
// one made elsewhere (another coordinator on PostgreSQL, a host's credential
// replaced in the store) is seen on the commit that wrote it; an expiry is a
// timer per stream. Nothing here polls.
import type { Logger } from '../log.js';
import type { TokenInfo } from '../model/auth.js';
import type { Store } from '../store/store.js';

/** Why a stream was ended: the last line it gets. */
export interface StreamEnd {
  code: 'unauthorized' | 'token_expired';
  message: string;
}

/** Coordinators' clocks differ: look this far back for revocations written by another one. */
const SKEW_MS = 10_000;
/** setTimeout's longest delay; longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TokenStreams {
  private readonly open = new Map<string, Set<AbortController>>();
  /** revocations already acted on, by id (pruned once older than the look-back) */
  private readonly seen = new Map<string, string>();
  private checking = false;
  private again = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onRevoked: () => void = () => undefined,
  ) {}

  /** Follow the store's commits for revocations made elsewhere. */
  start(): void {
    this.unsubscribe = this.store.onCommit(() => this.check());
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  get count(): number {
    let n = 0;
    for (const s of this.open.values()) n += s.size;
    return n;
  }

  /**
   * A signal that aborts, with a StreamEnd as its reason, when the token is
   * revoked or expires. Call `release` when the stream ends.
   */
  track(t: TokenInfo): { signal: AbortSignal; release: () => void } {
    const ctrl = new AbortController();
    let set = this.open.get(t.id);
    if (!set) this.open.set(t.id, (set = new Set()));
    set.add(ctrl);
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => {
      const left = Date.parse(t.expires_at!) - Date.now();
      if (left <= 0) {
        ctrl.abort({ code: 'token_expired', message: `the token expired at ${t.expires_at}` } satisfies StreamEnd);
        return;
      }
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    if (t.expires_at !== null) arm();
    const mine = set;
    return {
      signal: ctrl.signal,
      release: () => {
        if (timer) clearTimeout(timer);
        mine.delete(ctrl);
        if (mine.size === 0 && this.open.get(t.id) === mine) this.open.delete(t.id);
      },
    };
  }

  /** End the open streams of these tokens now. */
  revoked(ids: Iterable<string>): void {
    for (const id of ids) {
      for (const c of this.open.get(id) ?? []) c.abort({ code: 'unauthorized', message: 'the token was revoked' } satisfies StreamEnd);
    }
  }

  /** One look at recent revocations per burst of commits. */
  private check(): void {
    if (this.open.size === 0) return; // no stream to end: nothing to look up
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    void (async () => {
      do {
        this.again = false;
        const since = new Date(Date.now() - SKEW_MS).toISOString();
        for (const [id, at] of this.seen) if (at < since) this.seen.delete(id);
        const rows = await this.store.revokedTokensSince(since);
        const fresh = rows.filter((r) => !this.seen.has(r.id));
        if (fresh.length === 0) continue;
        for (const r of fresh) this.seen.set(r.id, r.revoked_at);
        this.onRevoked();
        this.revoked(fresh.map((r) => r.id));
      } while (this.again);
    })()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not read token revocations'))
      .finally(() => {
        this.checking = false;
      });
  }
}
