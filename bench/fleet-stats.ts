// Convergence latencies of the fleet bench: a histogram of 1 ms buckets (a
// million samples cost no more memory than ten), merged across worker threads.

const BUCKETS = 300_000; // 5 minutes; anything slower lands in the last bucket (max stays exact)

export interface LatencyHist {
  counts: Uint32Array;
  n: number;
  max: number;
}

export function newHist(): LatencyHist {
  return { counts: new Uint32Array(BUCKETS), n: 0, max: 0 };
}

export function record(h: LatencyHist, ms: number): void {
  const v = Math.max(0, ms);
  h.counts[Math.min(BUCKETS - 1, Math.floor(v))]!++;
  h.n++;
  if (v > h.max) h.max = v;
}

export function merge(into: LatencyHist, from: LatencyHist): void {
  for (let i = 0; i < BUCKETS; i++) into.counts[i]! += from.counts[i]!;
  into.n += from.n;
  into.max = Math.max(into.max, from.max);
}

/** The q-quantile (0..1) in ms: the upper edge of its bucket (NaN without samples). */
export function quantile(h: LatencyHist, q: number): number {
  if (h.n === 0) return NaN;
  const rank = Math.ceil(q * h.n);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i]!;
    if (seen >= rank) return Math.min(i + 1, h.max);
  }
  return h.max;
}
