// A read-only map made of a shared base and a small layer of changes, for the
// DNS index's per-network map: a new version costs its changes and a copy of
// the layer, not a copy of every network, and the layer is folded into a new
// base once it passes about √(base size) entries (amortized O(√n) per
// change; reads stay at most two lookups). Iteration yields the layer first.
const GONE: unique symbol = Symbol('gone');

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly top: ReadonlyMap<K, V | typeof GONE>,
    readonly size: number,
  ) {}

  static of<K, V>(m: ReadonlyMap<K, V>): LayeredMap<K, V> {
    return m instanceof LayeredMap ? (m as LayeredMap<K, V>) : new LayeredMap(m, new Map(), m.size);
  }

  /** A new version with these entries set (undefined: removed); this one is unchanged. */
  with(changes: Iterable<readonly [K, V | undefined]>): LayeredMap<K, V> {
    const top = new Map(this.top);
    let size = this.size;
    for (const [k, v] of changes) {
      const had = top.has(k) ? top.get(k) !== GONE : this.base.has(k);
      if (v === undefined) {
        if (!had) continue;
        size--;
        if (this.base.has(k)) top.set(k, GONE);
        else top.delete(k);
      } else {
        if (!had) size++;
        top.set(k, v);
      }
    }
    if (top.size > Math.max(8, Math.ceil(Math.sqrt(this.base.size)))) {
      const flat = new Map<K, V>();
      for (const [k, v] of this.base) if (!top.has(k)) flat.set(k, v);
      for (const [k, v] of top) if (v !== GONE) flat.set(k, v);
      return new LayeredMap(flat, new Map(), size);
    }
    return new LayeredMap(this.base, top, size);
  }

  get(k: K): V | undefined {
    const t = this.top.get(k);
    if (t === GONE) return undefined;
    return t !== undefined ? t : this.base.get(k);
  }

  has(k: K): boolean {
    const t = this.top.get(k);
    if (t === GONE) return false;
    return t !== undefined || this.base.has(k);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.top) if (v !== GONE) yield [k, v];
    for (const [k, v] of this.base) if (!this.top.has(k)) yield [k, v];
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}
