// The answer cache's CLOCK eviction: entry by entry, cold entries first, hot
// ones kept through any flood; per-network invalidation; and a seeded random
// walk of sets, gets and invalidations checked against a model of what must
// (and must not) be there.
import assert from 'node:assert/strict';
import { AnswerCache } from '../../src/dns/cache.js';
import type { Encoded } from '../../src/dns/response.js';
import { rng } from '../../testkit/dns-fixture.js';

const enc = (tag: string): Encoded => ({ buf: Buffer.from(tag), qEnd: 0, rotatable: 0 });
const tagOf = (c: AnswerCache, net: number, key: string): string | null => c.get(net, key)?.buf.toString() ?? null;

describe('dns answer cache (CLOCK)', () => {
  it('evicts the entries not hit since the hand passed, one per insert, in ring order', () => {
    const c = new AnswerCache(8);
    for (let i = 0; i < 8; i++) c.set(1, `k${i}`, enc(`k${i}`), false);
    assert.equal(c.size, 8);
    assert.equal(tagOf(c, 1, 'k2'), 'k2');
    assert.equal(tagOf(c, 1, 'k5'), 'k5');
    const cold = ['k0', 'k1', 'k3', 'k4', 'k6', 'k7'];
    for (let i = 0; i < 6; i++) {
      c.set(1, `n${i}`, enc(`n${i}`), false);
      assert.equal(c.size, 8, 'full, never cleared');
      assert.equal(c.evictions, i + 1);
      // the next cold entry in ring order went (probing a missing key changes nothing)
      assert.equal(tagOf(c, 1, cold[i]!), null, cold[i]);
    }
    // probing a present key marks it hit, so those are probed only now
    for (const k of ['k0', 'k1', 'k3', 'k4', 'k6', 'k7']) assert.equal(tagOf(c, 1, k), null, k);
    for (const k of ['k2', 'k5', 'n0', 'n1', 'n2', 'n3', 'n4', 'n5']) assert.equal(tagOf(c, 1, k), k, k);
  });

  it('keeps names that are asked again through a flood of random names', () => {
    const c = new AnswerCache(1000);
    const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
    for (const k of hot) c.set(1, k, enc(k), false);
    const rand = rng(4);
    for (let i = 0; i < 50_000; i++) {
      c.set(1 + (i % 3), `r${Math.floor(rand() * 1e9)}`, enc('nx'), false);
      // clients keep asking for the hot names (each at least once per lap of the hand)
      const k = hot[i % hot.length]!;
      assert.equal(tagOf(c, 1, k), k, `${k} evicted after ${i} random names`);
    }
    assert.equal(c.size, 1000);
    assert.ok(c.evictions >= 49_000);
  });

  it('drops only the invalidated networks, reuses their slots before evicting', () => {
    const c = new AnswerCache(6);
    for (let i = 0; i < 3; i++) {
      c.set(1, `a${i}`, enc(`a${i}`), false);
      c.set(2, `b${i}`, enc(`b${i}`), false);
    }
    c.invalidate(new Set([1, 99]));
    assert.equal(c.size, 3);
    for (let i = 0; i < 3; i++) c.set(3, `c${i}`, enc(`c${i}`), false);
    assert.equal(c.evictions, 0, 'the freed slots were used');
    assert.equal(c.size, 6);
    for (let i = 0; i < 3; i++) {
      assert.equal(tagOf(c, 1, `a${i}`), null);
      assert.equal(tagOf(c, 2, `b${i}`), `b${i}`);
      assert.equal(tagOf(c, 3, `c${i}`), `c${i}`);
    }
    c.invalidate(null);
    assert.equal(c.size, 0);
    assert.equal(tagOf(c, 2, 'b0'), null);
  });

  it('replaces an entry in place', () => {
    const c = new AnswerCache(2);
    c.set(1, 'k', enc('v1'), false);
    c.set(1, 'k', enc('v2'), true);
    assert.equal(c.size, 1);
    const e = c.get(1, 'k')!;
    assert.equal(e.buf.toString(), 'v2');
    assert.ok(e.hasOpt);
  });

  it('refuses a size that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) assert.throws(() => new AnswerCache(n), /positive integer/);
  });

  it('survives a random walk of sets, gets and invalidations (model check)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = rng(seed);
      const max = 1 + Math.floor(rand() * 64);
      const c = new AnswerCache(max);
      // what each key must hold if present; a key absent here must miss
      const model = new Map<string, string>();
      let version = 0;
      let inserts = 0;
      for (let step = 0; step < 20_000; step++) {
        const net = 1 + Math.floor(rand() * 4);
        const key = `k${Math.floor(rand() * (max * 3))}`;
        const id = `${net}/${key}`;
        const r = rand();
        if (r < 0.5) {
          const fresh = !model.has(id) || tagOf(c, net, key) === null;
          const evictionsBefore = c.evictions,
            sizeBefore = c.size;
          const v = `v${version++}`;
          c.set(net, key, enc(v), false);
          model.set(id, v);
          if (fresh) {
            inserts++;
            // one eviction exactly when a new key arrives at a full cache, else none
            assert.equal(c.evictions - evictionsBefore, sizeBefore === max ? 1 : 0, `seed ${seed} step ${step}`);
          }
        } else if (r < 0.97) {
          const got = tagOf(c, net, key);
          if (got !== null) assert.equal(got, model.get(id), `stale answer for ${id} (seed ${seed} step ${step})`);
          else model.delete(id);
        } else {
          const gone = new Set([net]);
          c.invalidate(gone);
          for (const k of [...model.keys()]) if (k.startsWith(`${net}/`)) model.delete(k);
        }
        assert.ok(c.size <= max, `size ${c.size} over ${max}`);
      }
      // everything the cache still answers is the last value set, and it holds no more than the model allows
      let present = 0;
      for (const [id, v] of model) {
        const [net, key] = id.split('/');
        const got = tagOf(c, Number(net), key!);
        if (got !== null) {
          assert.equal(got, v);
          present++;
        }
      }
      assert.equal(present, c.size, `seed ${seed}: size matches the entries that answer`);
      assert.ok(inserts > max, 'the walk filled the cache');
    }
  });
});
