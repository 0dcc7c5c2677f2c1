// A token bucket per key (the machine API keys it by machine id): `burst`
// writes at once, then `perSecond` on average. Every metadata write becomes a
// global revision that every host and DNS server processes, so one machine
// must not be able to write as fast as it likes. Pure: the clock is given.

export interface RateOptions {
  /** tokens added per second (the sustained rate) */
  perSecond: number;
  /** bucket size (the burst a quiet key may spend at once) */
  burst: number;
}

export const DEFAULT_WRITE_RATE: RateOptions = { perSecond: 10, burst: 20 };

interface Bucket {
  tokens: number;
  at: number;
}

/** Above this many keys, full (idle) buckets are dropped: a full bucket is the same as none. */
const SWEEP_AT = 4096;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly o: RateOptions,
    private readonly clockMs: () => number = () => performance.now(),
  ) {
    if (!(o.perSecond > 0) || !(o.burst >= 1)) throw new RangeError(`rate must be > 0 and burst >= 1, got ${o.perSecond}/s burst ${o.burst}`);
  }

  /** Take one token for `key`: 0 when granted, else the milliseconds until one is there (nothing taken). */
  take(key: string): number {
    const t = this.clockMs();
    const b = this.refill(this.buckets.get(key), t);
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(t);
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 1000) / this.o.perSecond);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket | undefined, t: number): Bucket {
    if (!b) return { tokens: this.o.burst, at: t };
    b.tokens = Math.min(this.o.burst, b.tokens + (Math.max(0, t - b.at) * this.o.perSecond) / 1000);
    b.at = t;
    return b;
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (this.refill(b, t).tokens >= this.o.burst) this.buckets.delete(k);
  }
}

/** Retry-After (whole seconds, at least 1) for a wait of `ms`. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
