// The DNS index's layered map: every version reads like a plain Map with the
// same changes applied, older versions are untouched, and the layer folds.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LayeredMap } from '../../src/dns/layered.js';

const plain = <K, V>(m: ReadonlyMap<K, V>): [K, V][] => [...m].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));

describe('dns: layered map', () => {
  it('set, replace, remove, re-add; old versions unchanged', () => {
    const v0 = LayeredMap.of(
      new Map([
        [1, 'a'],
        [2, 'b'],
      ]),
    );
    const v1 = v0.with([
      [3, 'c'],
      [1, 'A'],
    ]);
    const v2 = v1.with([
      [2, undefined],
      [4, undefined],
    ]);
    const v3 = v2.with([[2, 'B']]);
    assert.deepEqual(plain(v0), [
      [1, 'a'],
      [2, 'b'],
    ]);
    assert.deepEqual(plain(v1), [
      [1, 'A'],
      [2, 'b'],
      [3, 'c'],
    ]);
    assert.deepEqual(plain(v2), [
      [1, 'A'],
      [3, 'c'],
    ]);
    assert.deepEqual([v2.size, v2.has(2), v2.get(2), v2.has(4)], [2, false, undefined, false]);
    assert.deepEqual(plain(v3), [
      [1, 'A'],
      [2, 'B'],
      [3, 'c'],
    ]);
    assert.equal(v3.size, 3);
    assert.deepEqual([...v3.keys()].sort(), [1, 2, 3]);
    assert.deepEqual([...v3.values()].sort(), ['A', 'B', 'c']);
    const seen: number[] = [];
    v3.forEach((_v, k) => seen.push(k));
    assert.deepEqual(seen.sort(), [1, 2, 3]);
  });

  it('property: any sequence of changes reads like a Map, and every older version too', () => {
    const change = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(fc.integer(), { nil: undefined }));
    fc.assert(
      fc.property(fc.array(fc.array(change, { maxLength: 5 }), { maxLength: 60 }), (steps) => {
        const versions: [LayeredMap<number, number>, Map<number, number>][] = [[LayeredMap.of(new Map()), new Map()]];
        for (const s of steps) {
          const [lm, m] = versions[versions.length - 1]!;
          const next = new Map(m);
          for (const [k, v] of s) {
            if (v === undefined) next.delete(k);
            else next.set(k, v);
          }
          versions.push([lm.with(s), next]);
        }
        for (const [lm, m] of versions) {
          assert.equal(lm.size, m.size);
          assert.deepEqual(plain(lm), plain(m));
          for (let k = 0; k <= 40; k++) assert.equal(lm.get(k), m.get(k));
        }
      }),
      { numRuns: 300 },
    );
  });
});
