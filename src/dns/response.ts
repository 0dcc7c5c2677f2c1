// What a response is before it becomes bytes, and the size rules both
// encoders share (pack.ts on the hot path, encode.ts as the dns2 reference):
// answers beyond one TCP message are dropped, and which answers may rotate.
import type { Rr } from './lookup.js';
import { QTYPE } from './names.js';

/** Max DNS message (TCP); UDP answers larger than the client's limit are cut to TC. */
export const MAX_MESSAGE = 65535;
const AAAA_RR_LEN = 28; // compressed owner (2) + type/class/ttl/rdlength (10) + 16

export interface ResponseSpec {
  id: number;
  rd: boolean;
  cd: boolean;
  ra: boolean;
  rcode: number;
  question: { name: string; type: number };
  answers: readonly Rr[];
  authority: readonly Rr[];
  /** additional records (SRV targets' AAAA), before the OPT; cut to what fits */
  additional?: readonly Rr[];
  /** echo an OPT advertising this UDP size; null: the query had none */
  ednsSize: number | null;
  ttl: number;
}

export interface Encoded {
  buf: Buffer;
  /** end of the question section */
  qEnd: number;
  /** count of fixed-size AAAA records right after the question that may be rotated (0: none) */
  rotatable: number;
}

/** Wire length of a dotted name (labels + root byte). */
function wireLength(name: string): number {
  let n = 1;
  for (const l of name.split('.')) if (l) n += l.length + 1;
  return n;
}

function rrSize(rr: Rr): number {
  switch (rr.type) {
    case QTYPE.AAAA:
      return AAAA_RR_LEN;
    case QTYPE.TXT: {
      const len = txtLength(rr.items, rr.sep);
      return 12 + len + Math.ceil(len / 255);
    }
    case QTYPE.SOA:
      return 12 + wireLength(rr.mname) + wireLength(rr.rname) + 20;
    case QTYPE.SRV:
      return 18 + wireLength(rr.target);
    default:
      return 12 + wireLength(rr.target);
  }
}

function txtLength(items: readonly string[], sep: string): number {
  let n = 0;
  for (const s of items) n += Buffer.byteLength(s) + sep.length;
  return Math.max(0, n - sep.length);
}

/** End of the question section of a response to `qname` (header, name, type, class). */
export function questionEnd(qname: string): number {
  return 12 + wireLength(qname) + 4;
}

/** The answers that fit in one message after this question (and an OPT); a TXT list is cut at an item boundary. */
export function fitAnswers(qname: string, answers: readonly Rr[], hasOpt: boolean): readonly Rr[] {
  const qEnd = questionEnd(qname);
  const budget = MAX_MESSAGE - qEnd - (hasOpt ? 11 : 0) - 128;
  let used = 0;
  for (let i = 0; i < answers.length; i++) {
    const rr = answers[i]!;
    const size = rrSize(rr);
    if (used + size <= budget) {
      used += size;
      continue;
    }
    const out = answers.slice(0, i);
    if (rr.type === QTYPE.TXT) {
      const room = budget - used - 12;
      const items: string[] = [];
      let len = 0;
      for (const s of rr.items) {
        const next = len + (items.length ? rr.sep.length : 0) + Buffer.byteLength(s);
        if (next + Math.ceil(next / 255) > room) break;
        items.push(s);
        len = next;
      }
      if (items.length) out.push({ ...rr, items });
    }
    return out;
  }
  return answers;
}

/** All answers are AAAA records of 28 bytes each, owner compressed to the question: rotatable. */
export function rotatableCount(buf: Buffer, qEnd: number, answers: readonly Rr[]): number {
  if (answers.length < 2 || answers.some((rr) => rr.type !== QTYPE.AAAA)) return 0;
  if (buf.length < qEnd + answers.length * AAAA_RR_LEN) return 0;
  for (let k = 0; k < answers.length; k++) {
    const at = qEnd + k * AAAA_RR_LEN;
    if (buf[at] !== 0xc0 || buf[at + 1] !== 0x0c || buf.readUInt16BE(at + 10) !== 16) return 0;
  }
  return answers.length;
}

/** The additional records that still fit after the fitted answers (whole records only). */
export function fitAdditional(qname: string, answers: readonly Rr[], additional: readonly Rr[] | undefined, hasOpt: boolean): readonly Rr[] {
  if (!additional || additional.length === 0) return [];
  let left = MAX_MESSAGE - questionEnd(qname) - (hasOpt ? 11 : 0) - 128;
  for (const rr of answers) left -= rrSize(rr);
  // owner names of additional records are not always compressible: count them whole
  const out: Rr[] = [];
  for (const rr of additional) {
    const size = rrSize(rr) + wireLength(rr.name);
    if (size > left) break;
    left -= size;
    out.push(rr);
  }
  return out;
}
