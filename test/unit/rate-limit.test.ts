import assert from 'node:assert/strict';
import { retryAfterSeconds, TokenBuckets, type RateOptions } from '../../src/machineapi/rate-limit.js';

/** One step: at `t` ms, `n` takes for `key`; `granted` of them succeed, and the last refusal waits `waitMs`. */
interface Step {
  t: number;
  key: string;
  n: number;
  granted: number;
  waitMs?: number;
}

const CASES: { name: string; rate: RateOptions; steps: Step[] }[] = [
  {
    name: 'a fresh key spends its whole burst at once, then waits for one token',
    rate: { perSecond: 10, burst: 20 },
    steps: [{ t: 0, key: 'a', n: 100, granted: 20, waitMs: 100 }],
  },
  {
    name: 'refills at the sustained rate',
    rate: { perSecond: 10, burst: 20 },
    steps: [
      { t: 0, key: 'a', n: 20, granted: 20 },
      { t: 500, key: 'a', n: 10, granted: 5, waitMs: 100 },
      { t: 550, key: 'a', n: 1, granted: 0, waitMs: 50 },
      { t: 600, key: 'a', n: 1, granted: 1 },
    ],
  },
  {
    name: 'never refills above the burst',
    rate: { perSecond: 10, burst: 20 },
    steps: [
      { t: 0, key: 'a', n: 1, granted: 1 },
      { t: 3_600_000, key: 'a', n: 25, granted: 20, waitMs: 100 },
    ],
  },
  {
    name: 'keys are independent: one key exhausted leaves the others whole',
    rate: { perSecond: 10, burst: 20 },
    steps: [
      { t: 0, key: 'a', n: 100, granted: 20 },
      { t: 1, key: 'b', n: 20, granted: 20 },
      { t: 2, key: 'c', n: 1, granted: 1 },
      { t: 3, key: 'a', n: 1, granted: 0 },
    ],
  },
  {
    name: 'a slow rate gives long waits (Retry-After rounds them up)',
    rate: { perSecond: 0.5, burst: 1 },
    steps: [
      { t: 0, key: 'a', n: 2, granted: 1, waitMs: 2000 },
      { t: 1000, key: 'a', n: 1, granted: 0, waitMs: 1000 },
      { t: 2000, key: 'a', n: 1, granted: 1 },
    ],
  },
  {
    name: 'a clock that steps back grants nothing extra',
    rate: { perSecond: 10, burst: 2 },
    steps: [
      { t: 1000, key: 'a', n: 2, granted: 2 },
      { t: 0, key: 'a', n: 1, granted: 0, waitMs: 100 },
    ],
  },
];

describe('token buckets (machine API write rate)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      let now = 0;
      const buckets = new TokenBuckets(c.rate, () => now);
      for (const s of c.steps) {
        now = s.t;
        let granted = 0;
        let lastWait: number | undefined;
        for (let i = 0; i < s.n; i++) {
          const w = buckets.take(s.key);
          if (w === 0) granted++;
          else lastWait = w;
        }
        assert.equal(granted, s.granted, `${s.key} at ${s.t} ms`);
        if (s.waitMs !== undefined) assert.equal(lastWait, s.waitMs, `${s.key} wait at ${s.t} ms`);
      }
    });
  }

  it('drops idle (full) buckets once many keys are tracked, keeping the busy ones', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 10, burst: 20 }, () => now);
    for (let i = 0; i < 20; i++) buckets.take('busy');
    for (let i = 0; i < 5000; i++) buckets.take(`k${i}`);
    assert.ok(buckets.size > 4096, 'no bucket was full yet (each is one token short), so none was dropped');
    now = 10_000; // every bucket is full again: the next new key sweeps them
    buckets.take('new');
    assert.ok(buckets.size < 10, `size ${buckets.size}`);
    assert.equal(buckets.take('busy'), 0);
  });

  it('refuses a rate that is not positive', () => {
    for (const r of [
      { perSecond: 0, burst: 20 },
      { perSecond: 10, burst: 0 },
      { perSecond: Number.NaN, burst: 1 },
    ]) {
      assert.throws(() => new TokenBuckets(r), RangeError);
    }
  });

  it('Retry-After is whole seconds, at least 1', () => {
    for (const [ms, s] of [
      [1, 1],
      [100, 1],
      [1000, 1],
      [1001, 2],
      [2500, 3],
    ] as const)
      assert.equal(retryAfterSeconds(ms), s, `${ms} ms`);
  });
});
