// dns2 wrapper: parses guarded queries and builds answer packets. The only
// module (with nothing else) that imports dns2. Called on cache misses only;
// the hot path replays bytes built here.
import { Packet, type Header, type Resource } from 'dns2';
import type { Rr } from './lookup.js';
import { QCLASS_IN, QTYPE, splitTxt } from './names.js';

/** Max DNS message (TCP); UDP answers larger than the client's limit are cut to TC. */
export const MAX_MESSAGE = 65535;
const AAAA_RR_LEN = 28; // compressed owner (2) + type/class/ttl/rdlength (10) + 16

export interface ParsedQuestion {
  /** the question name as asked (case preserved), no trailing dot */
  name: string;
  rd: boolean;
  cd: boolean;
}

/**
 * Parse the header and question of a message that passed guardQuery, with
 * dns2. The OPT stays out: the guard has read it already, and dns2's option
 * decoders trust the option lengths (a short ECS option makes one read to the
 * end of the packet).
 */
export function parseQuestion(msg: Buffer, qEnd: number): ParsedQuestion {
  const head = Buffer.from(msg.subarray(0, qEnd));
  head.writeUInt16BE(0, 10); // arcount
  const p = Packet.parse(head);
  const q = p.questions[0];
  if (!q) throw new Error('no question after guard');
  const h = p.header as Header & { cd?: number };
  return { name: q.name, rd: h.rd === 1, cd: h.cd === 1 };
}

export interface ResponseSpec {
  id: number;
  rd: boolean;
  cd: boolean;
  ra: boolean;
  rcode: number;
  question: { name: string; type: number };
  answers: readonly Rr[];
  authority: readonly Rr[];
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

/** Build a whole response with dns2; answers beyond one TCP message are dropped. */
export function encodeResponse(spec: ResponseSpec, ordered: boolean): Encoded {
  const qnameLen = wireLength(spec.question.name);
  const qEnd = 12 + qnameLen + 4;
  const budget = MAX_MESSAGE - qEnd - (spec.ednsSize !== null ? 11 : 0) - 128;
  const answers = fit(spec.answers, budget);
  const packet = new Packet();
  packet.header = new Packet.Header({
    id: spec.id, qr: 1, opcode: 0, aa: 1, rd: spec.rd ? 1 : 0, ra: spec.ra ? 1 : 0,
    rcode: spec.rcode, ...(spec.cd ? { cd: 1 } : {}),
  } as Partial<Header>);
  packet.questions = [new Packet.Question(spec.question.name, spec.question.type, QCLASS_IN)];
  packet.answers = answers.map((rr) => resource(rr, spec.ttl));
  packet.authorities = spec.authority.map((rr) => resource(rr, spec.ttl));
  if (spec.ednsSize !== null) {
    packet.additionals = [{ name: '', type: QTYPE.OPT, class: spec.ednsSize, ttl: 0, extendedRcode: 0, version: 0, doFlag: false, rdata: [] } as unknown as Resource];
  }
  const buf = packet.toBuffer();
  return { buf, qEnd, rotatable: ordered ? 0 : rotatableCount(buf, qEnd, answers) };
}

function resource(rr: Rr, ttl: number): Resource {
  const base = { name: rr.name, type: rr.type, class: QCLASS_IN, ttl };
  switch (rr.type) {
    case QTYPE.AAAA: return { ...base, address: rr.address } as Resource;
    case QTYPE.TXT: return { ...base, data: splitTxt(rr.items.join(rr.sep)) as unknown as string[] } as Resource;
    case QTYPE.PTR: return { ...base, domain: rr.target } as Resource;
    case QTYPE.NS: return { ...base, ns: rr.target } as Resource;
    case QTYPE.SOA:
      return {
        ...base, primary: rr.mname, admin: rr.rname, serial: rr.serial,
        refresh: 3600, retry: 600, expiration: 86400, minimum: ttl,
      } as Resource;
  }
}

/** Wire length of a dotted name (labels + root byte). */
function wireLength(name: string): number {
  let n = 1;
  for (const l of name.split('.')) if (l) n += l.length + 1;
  return n;
}

function rrSize(rr: Rr): number {
  switch (rr.type) {
    case QTYPE.AAAA: return AAAA_RR_LEN;
    case QTYPE.TXT: { const len = txtLength(rr.items, rr.sep); return 12 + len + Math.ceil(len / 255); }
    case QTYPE.SOA: return 12 + wireLength(rr.mname) + wireLength(rr.rname) + 20;
    default: return 12 + wireLength(rr.target);
  }
}

function txtLength(items: readonly string[], sep: string): number {
  let n = 0;
  for (const s of items) n += Buffer.byteLength(s) + sep.length;
  return Math.max(0, n - sep.length);
}

/** Keep what fits in one message; a TXT list is cut at an item boundary. */
function fit(answers: readonly Rr[], budget: number): readonly Rr[] {
  let used = 0;
  for (let i = 0; i < answers.length; i++) {
    const rr = answers[i]!;
    const size = rrSize(rr);
    if (used + size <= budget) { used += size; continue; }
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
function rotatableCount(buf: Buffer, qEnd: number, answers: readonly Rr[]): number {
  if (answers.length < 2 || answers.some((rr) => rr.type !== QTYPE.AAAA)) return 0;
  if (buf.length < qEnd + answers.length * AAAA_RR_LEN) return 0;
  for (let k = 0; k < answers.length; k++) {
    const at = qEnd + k * AAAA_RR_LEN;
    if (buf[at] !== 0xc0 || buf[at + 1] !== 0x0c || buf.readUInt16BE(at + 10) !== 16) return 0;
  }
  return answers.length;
}
