// Encoded-answer cache: the hot path. Keyed by (network, wire name lowercased,
// type, EDNS or not); one entry serves every UDP size limit and TCP (the
// truncated form is derived once). A hit copies bytes and patches the ID,
// RD/CD, the question's case, and the rotation of multi-address answers.
// Entries for a network are dropped when a feed change touches it.
// Bounded by CLOCK eviction (one entry at a time, second chance for entries
// hit since the hand last passed), so a flood of random names cycles through
// the cold slots while the names clients keep asking for stay.
import type { Encoded } from './response.js';
import type { Query } from './wire.js';

export interface CachedAnswer extends Encoded {
  /** rotation counter */
  turn: number;
  /** TC=1 form (header, question, OPT): built on first need */
  truncated: Buffer | null;
  hasOpt: boolean;
}

interface Slot extends CachedAnswer {
  net: number;
  key: string;
  slot: number;
  /** hit since the clock hand last passed */
  ref: boolean;
}

export const DEFAULT_CACHE_ENTRIES = 200_000;

/** What the metrics read: one cache's counters, or the sum over worker processes. */
export interface CacheCounts {
  hits: number;
  misses: number;
  evictions: number;
  size: number;
}

export class AnswerCache implements CacheCounts {
  private nets = new Map<number, Map<string, Slot>>();
  /** slot → entry; the clock hand walks it */
  private ring: (Slot | undefined)[] = [];
  /** slots emptied by invalidation, filled before anything is evicted */
  private free: number[] = [];
  private hand = 0;
  private count = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly maxEntries = DEFAULT_CACHE_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`answer cache size must be a positive integer, got ${maxEntries}`);
  }

  static key(q: Query): string {
    return q.opt ? `${q.wireName}\u0001${q.qtype}` : `${q.wireName}\u0000${q.qtype}`;
  }

  get(net: number, key: string): CachedAnswer | undefined {
    const hit = this.nets.get(net)?.get(key);
    if (hit) {
      this.hits++;
      hit.ref = true;
    } else this.misses++;
    return hit;
  }

  set(net: number, key: string, enc: Encoded, hasOpt: boolean): CachedAnswer {
    let m = this.nets.get(net);
    if (!m) this.nets.set(net, (m = new Map()));
    const old = m.get(key);
    const slot = old ? old.slot : (this.free.pop() ?? (this.ring.length < this.maxEntries ? this.ring.length : this.evict()));
    // New entries start cold: a name asked once is the first to go.
    const entry: Slot = { buf: enc.buf, qEnd: enc.qEnd, rotatable: enc.rotatable, turn: 0, truncated: null, hasOpt, net, key, slot, ref: false };
    if (!old) this.count++;
    this.ring[slot] = entry;
    // evict() may have dropped this network's last entry and its map with it
    if (this.nets.get(net) !== m) this.nets.set(net, m);
    m.set(key, entry);
    return entry;
  }

  /** Advance the hand to a cold entry, drop it, and hand back its slot. */
  private evict(): number {
    for (;;) {
      const at = this.hand;
      this.hand = at + 1 === this.ring.length ? 0 : at + 1;
      const e = this.ring[at];
      if (!e) return at;
      if (e.ref) {
        e.ref = false;
        continue;
      }
      const m = this.nets.get(e.net)!;
      m.delete(e.key);
      if (m.size === 0) this.nets.delete(e.net);
      this.ring[at] = undefined;
      this.count--;
      this.evictions++;
      return at;
    }
  }

  /** Drop the entries of these networks (null: all). */
  invalidate(nets: ReadonlySet<number> | null): void {
    if (nets === null) {
      this.clear();
      return;
    }
    for (const n of nets) {
      const m = this.nets.get(n);
      if (!m) continue;
      for (const e of m.values()) {
        this.ring[e.slot] = undefined;
        this.free.push(e.slot);
      }
      this.count -= m.size;
      this.nets.delete(n);
    }
  }

  clear(): void {
    this.nets = new Map();
    this.ring = [];
    this.free = [];
    this.hand = 0;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

/** The response for one query from a cached answer. */
export function materialize(e: CachedAnswer, req: Buffer, q: Query, limit: number): Buffer {
  let out: Buffer;
  if (e.buf.length > limit) {
    out = Buffer.from(e.truncated ?? (e.truncated = truncatedForm(e)));
  } else if (e.rotatable > 1) {
    out = Buffer.allocUnsafe(e.buf.length);
    const k = e.turn++ % e.rotatable;
    if (e.turn >= 0x3fffffff) e.turn = 0;
    const start = e.qEnd,
      cut = start + k * 28,
      end = start + e.rotatable * 28;
    e.buf.copy(out, 0, 0, start);
    e.buf.copy(out, start, cut, end);
    e.buf.copy(out, start + (end - cut), start, cut);
    e.buf.copy(out, end, end);
  } else {
    out = Buffer.allocUnsafe(e.buf.length);
    e.buf.copy(out);
  }
  out[0] = req[0]!;
  out[1] = req[1]!;
  out[2] = (out[2]! & 0xfe) | (req[2]! & 0x01); // RD
  out[3] = (out[3]! & 0xef) | (req[3]! & 0x10); // CD
  req.copy(out, 12, 12, q.qnameEnd); // the question's case, as asked
  return out;
}

function truncatedForm(e: CachedAnswer): Buffer {
  const opt = e.hasOpt ? e.buf.subarray(e.buf.length - 11) : Buffer.alloc(0);
  const t = Buffer.concat([e.buf.subarray(0, e.qEnd), opt]);
  t[2] = t[2]! | 0x02; // TC
  t.writeUInt16BE(0, 6);
  t.writeUInt16BE(0, 8);
  t.writeUInt16BE(e.hasOpt ? 1 : 0, 10);
  return t;
}
