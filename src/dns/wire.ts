// Pre-parse guard and raw header work. Runs on every packet before dns2 sees
// it: dns2's Packet.parse trusts the header counts (a 32-byte packet claiming
// 34,471 questions takes ~0.6 s to parse), so the packet's shape is checked
// against its length here, in one bounded pass, and only well-formed
// queries go on. The same pass yields the cache key, so a cache hit never
// calls dns2 at all.
import { QTYPE, RCODE } from './names.js';

export const HEADER_LEN = 12;
const OPT_RR_LEN = 11; // root name, type, class, ttl, rdlength

export interface EdnsInfo {
  udpSize: number;
  version: number;
}

/** A query that passed the guard. Offsets index into the original message. */
export interface Query {
  id: number;
  opcode: number;
  qtype: number;
  qclass: number;
  /** end of the question name (question name = msg[12, qnameEnd)) */
  qnameEnd: number;
  /** end of the question section */
  qEnd: number;
  /** wire name, ASCII-lowercased, as a latin1 string (unique per name, no dot ambiguity) */
  wireName: string;
  opt: EdnsInfo | null;
}

export type Guarded =
  | { kind: 'query'; query: Query }
  /** not worth an answer: too short to carry an ID, or a response (no loops, no reflection) */
  | { kind: 'drop' }
  /** answer with this rcode and no question (the question could not be trusted) */
  | { kind: 'reject'; rcode: number; id: number; opcode: number; rd: number };

/** Check a message's shape: a query has QR=0, one question, no answers, at most one OPT. */
export function guardQuery(msg: Buffer): Guarded {
  const len = msg.length;
  if (len < HEADER_LEN) return { kind: 'drop' };
  const b2 = msg[2]!;
  if (b2 & 0x80) return { kind: 'drop' };
  const id = msg.readUInt16BE(0);
  const opcode = (b2 >> 3) & 0x0f;
  const rd = b2 & 1;
  const reject = (rcode: number): Guarded => ({ kind: 'reject', rcode, id, opcode, rd });
  const qd = msg.readUInt16BE(4),
    an = msg.readUInt16BE(6),
    ns = msg.readUInt16BE(8),
    ar = msg.readUInt16BE(10);
  // Counts that cannot fit in the packet (a question takes ≥ 5 bytes, a record ≥ 11): garbage, whatever the opcode.
  if (HEADER_LEN + qd * 5 + (an + ns + ar) * 11 > len) return reject(RCODE.FORMERR);
  if (opcode !== 0) return reject(RCODE.NOTIMP);
  if (qd !== 1 || an !== 0 || ns !== 0 || ar > 1) return reject(RCODE.FORMERR);

  // Question name: plain labels only (a pointer in a query's first name can only point into the header).
  let p = HEADER_LEN;
  let total = 1;
  let upper = false;
  for (;;) {
    if (p >= len) return reject(RCODE.FORMERR);
    const l = msg[p]!;
    if (l === 0) {
      p++;
      break;
    }
    if (l > 63) return reject(RCODE.FORMERR);
    total += l + 1;
    if (total > 255 || p + 1 + l > len) return reject(RCODE.FORMERR);
    // A dot inside a label cannot round-trip through dotted names: refuse it.
    for (let i = p + 1; i <= p + l; i++) {
      const c = msg[i]!;
      if (c === 0x2e) return reject(RCODE.FORMERR);
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    p += 1 + l;
  }
  const qnameEnd = p;
  if (p + 4 > len) return reject(RCODE.FORMERR);
  const qtype = msg.readUInt16BE(p);
  const qclass = msg.readUInt16BE(p + 2);
  p += 4;
  const qEnd = p;

  let opt: EdnsInfo | null = null;
  if (ar === 1) {
    if (p + OPT_RR_LEN > len || msg[p] !== 0 || msg.readUInt16BE(p + 1) !== QTYPE.OPT) return reject(RCODE.FORMERR);
    const udpSize = msg.readUInt16BE(p + 3);
    const version = msg[p + 6]!;
    const rdlen = msg.readUInt16BE(p + 9);
    p += OPT_RR_LEN;
    const end = p + rdlen;
    if (end > len) return reject(RCODE.FORMERR);
    while (p < end) {
      // options: code, length, data
      if (p + 4 > end) return reject(RCODE.FORMERR);
      p += 4 + msg.readUInt16BE(p + 2);
    }
    if (p !== end) return reject(RCODE.FORMERR);
    opt = { udpSize, version };
  }
  if (p !== len) return reject(RCODE.FORMERR); // trailing bytes
  return {
    kind: 'query',
    query: {
      id,
      opcode,
      qtype,
      qclass,
      qnameEnd,
      qEnd,
      wireName: upper ? asciiLower(msg.toString('latin1', HEADER_LEN, qnameEnd)) : msg.toString('latin1', HEADER_LEN, qnameEnd),
      opt,
    },
  };
}

/**
 * The question name as asked (case kept, labels read as latin1, no trailing
 * dot), from a query that passed the guard: what dns2's parser returns, without it.
 */
export function questionName(msg: Buffer, qnameEnd: number): string {
  let name = '';
  for (let p = HEADER_LEN; p < qnameEnd - 1;) {
    const l = msg[p]!;
    name += name ? `.${msg.toString('latin1', p + 1, p + 1 + l)}` : msg.toString('latin1', p + 1, p + 1 + l);
    p += 1 + l;
  }
  return name;
}

/** DNS names compare case-insensitively in ASCII only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Header-only response (no question): for packets whose question is not trusted. */
export function headerOnly(id: number, opcode: number, rd: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_LEN);
  out.writeUInt16BE(id, 0);
  out[2] = 0x80 | (opcode << 3) | rd;
  out[3] = rcode & 0x0f;
  return out;
}

/**
 * Error response that echoes the question (and an OPT when the query had
 * one): a copy of the query's header and question with the flags rewritten.
 */
export function errorWithQuestion(msg: Buffer, q: Query, rcode: number, ra: boolean, ednsSize: number): Buffer {
  const out = Buffer.alloc(q.qEnd + (q.opt ? OPT_RR_LEN : 0));
  msg.copy(out, 0, 0, q.qEnd);
  out[2] = 0x80 | (msg[2]! & 0x01); // QR, opcode 0, RD echoed
  out[3] = (ra ? 0x80 : 0) | (msg[3]! & 0x10) | (rcode & 0x0f); // RA, CD echoed
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(q.opt ? 1 : 0, 10);
  if (q.opt) writeOpt(out, q.qEnd, ednsSize, rcode >> 4);
  return out;
}

function writeOpt(out: Buffer, at: number, udpSize: number, extRcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(QTYPE.OPT, at + 1);
  out.writeUInt16BE(udpSize, at + 3);
  out.writeUInt32BE(((extRcode & 0xff) << 24) >>> 0, at + 5);
  out.writeUInt16BE(0, at + 9);
}
