// Encoded-answer cache: the hot path. Keyed by (network, wire name lowercased,
// type, EDNS or not); one entry serves every UDP size limit and TCP (the
// truncated form is derived once). A hit copies bytes and patches the ID,
// RD/CD, the question's case, and the rotation of multi-address answers.
// Entries for a network are dropped when a feed change touches it.
import type { Encoded } from './encode.js';
import type { Query } from './wire.js';

export interface CachedAnswer extends Encoded {
  /** rotation counter */
  turn: number;
  /** TC=1 form (header, question, OPT): built on first need */
  truncated: Buffer | null;
  hasOpt: boolean;
}

export class AnswerCache {
  private nets = new Map<number, Map<string, CachedAnswer>>();
  private count = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 200_000) {}

  static key(q: Query): string {
    return q.opt ? `${q.wireName}\u0001${q.qtype}` : `${q.wireName}\u0000${q.qtype}`;
  }

  get(net: number, key: string): CachedAnswer | undefined {
    const hit = this.nets.get(net)?.get(key);
    if (hit) this.hits++; else this.misses++;
    return hit;
  }

  set(net: number, key: string, enc: Encoded, hasOpt: boolean): CachedAnswer {
    const entry: CachedAnswer = { ...enc, turn: 0, truncated: null, hasOpt };
    // Bounded: a flood of random names empties the cache rather than growing it.
    if (this.count >= this.maxEntries) this.clear();
    let m = this.nets.get(net);
    if (!m) this.nets.set(net, (m = new Map()));
    if (!m.has(key)) this.count++;
    m.set(key, entry);
    return entry;
  }

  /** Drop the entries of these networks (null: all). */
  invalidate(nets: ReadonlySet<number> | null): void {
    if (nets === null) { this.clear(); return; }
    for (const n of nets) {
      const m = this.nets.get(n);
      if (m) { this.count -= m.size; this.nets.delete(n); }
    }
  }

  clear(): void {
    this.nets = new Map();
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
    const start = e.qEnd, cut = start + k * 28, end = start + e.rotatable * 28;
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
