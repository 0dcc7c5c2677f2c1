// The miss path's packer: builds a response straight into one scratch buffer
// from a lookup result. It writes the bytes the generic encoder (encode.ts,
// dns2) writes for the same spec, compression included (never in an SRV
// target, RFC 2782), without dns2's bit-per-array-element writer (the miss
// path's main cost: each packet allocated and garbage-collected thousands of
// array slots). Table tests hold the two byte-for-byte equal
// (test/unit/dns-pack.test.ts).
import { fitAdditional, fitAnswers, rotatableCount, type Encoded, type ResponseSpec } from './response.js';
import type { Rr } from './lookup.js';
import { QCLASS_IN, QTYPE, splitTxt } from './names.js';

// One message at most 64 KiB (fit() keeps answers under it) plus one SOA.
const scratch = Buffer.allocUnsafe(70_000);
const MAX_POINTER = 0x4000;

/** Writes into `scratch`; names compressed as dns2 does (first occurrence of each lowercased suffix). */
class Writer {
  pos = 0;
  private readonly names = new Map<string, number>();

  u8(v: number): void {
    this.room(1);
    scratch[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.room(2);
    scratch[this.pos++] = (v >>> 8) & 0xff;
    scratch[this.pos++] = v & 0xff;
  }
  u32(v: number): void {
    this.room(4);
    scratch.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(scratch, this.pos);
    this.pos += b.length;
  }

  name(domain: string): void {
    const parts = domain.split('.');
    let start = 0;
    while (start < parts.length && parts[start] === '') start++;
    for (let i = start; i < parts.length; i++) {
      const label = parts[i]!;
      if (label === '') continue;
      const suffix = suffixOf(parts, i);
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.pos < MAX_POINTER) this.names.set(suffix, this.pos);
      this.room(1 + label.length);
      scratch[this.pos++] = label.length & 0xff;
      for (let j = 0; j < label.length; j++) scratch[this.pos++] = label.charCodeAt(j) & 0xff;
    }
    this.u8(0);
  }

  /**
   * Every label in full, and not offered to later names either: RFC 2782 says
   * of the SRV target "name compression is not to be used for this field".
   */
  nameInFull(domain: string): void {
    for (const label of domain.split('.')) {
      if (label === '') continue;
      this.room(1 + label.length);
      scratch[this.pos++] = label.length & 0xff;
      for (let j = 0; j < label.length; j++) scratch[this.pos++] = label.charCodeAt(j) & 0xff;
    }
    this.u8(0);
  }

  /** Owner, type, class, TTL, then the RDATA from `rdata`, its length back-filled. */
  rr(name: string, type: number, cls: number, ttl: number, rdata: () => void): void {
    this.name(name);
    this.u16(type);
    this.u16(cls);
    this.u32(Math.min(ttl >>> 0, 0x7fffffff));
    const lenAt = this.pos;
    this.u16(0);
    rdata();
    scratch.writeUInt16BE(this.pos - lenAt - 2, lenAt);
  }

  private room(n: number): void {
    if (this.pos + n > scratch.length) throw new RangeError('dns response larger than the packer buffer');
  }
}

/** dns2's suffix key: the non-empty labels from i on, joined and lowercased. */
function suffixOf(parts: readonly string[], i: number): string {
  let s = parts[i]!;
  for (let k = i + 1; k < parts.length; k++) if (parts[k] !== '') s += `.${parts[k]}`;
  return s.toLowerCase();
}

/** The same bytes as encodeResponse(spec, ordered), built directly. */
export function packResponse(spec: ResponseSpec, ordered: boolean): Encoded {
  const answers = fitAnswers(spec.question.name, spec.answers, spec.ednsSize !== null);
  const additional = fitAdditional(spec.question.name, answers, spec.additional, spec.ednsSize !== null);
  const w = new Writer();
  w.u16(spec.id);
  w.u8(0x80 | 0x04 | (spec.rd ? 1 : 0)); // QR, opcode 0, AA, RD
  w.u8((spec.ra ? 0x80 : 0) | (spec.cd ? 0x10 : 0) | (spec.rcode & 0x0f));
  w.u16(1);
  w.u16(answers.length);
  w.u16(spec.authority.length);
  w.u16(additional.length + (spec.ednsSize !== null ? 1 : 0));
  w.name(spec.question.name);
  w.u16(spec.question.type);
  w.u16(QCLASS_IN);
  const qEnd = w.pos;
  for (const rr of answers) record(w, rr, spec.ttl);
  for (const rr of spec.authority) record(w, rr, spec.ttl);
  for (const rr of additional) record(w, rr, spec.ttl);
  if (spec.ednsSize !== null) w.rr('', QTYPE.OPT, spec.ednsSize, 0, () => undefined);
  const buf = Buffer.from(scratch.subarray(0, w.pos));
  return { buf, qEnd, rotatable: ordered ? 0 : rotatableCount(buf, qEnd, answers) };
}

function record(w: Writer, rr: Rr, ttl: number): void {
  switch (rr.type) {
    case QTYPE.AAAA:
      return w.rr(rr.name, rr.type, QCLASS_IN, ttl, () => w.bytes(ipv6Bytes(rr.address)));
    case QTYPE.TXT:
      return w.rr(rr.name, rr.type, QCLASS_IN, ttl, () => {
        for (const s of splitTxt(rr.items.join(rr.sep))) {
          w.u8(s.length);
          w.bytes(s);
        }
      });
    case QTYPE.PTR:
    case QTYPE.NS:
      return w.rr(rr.name, rr.type, QCLASS_IN, ttl, () => w.name(rr.target));
    case QTYPE.SRV:
      return w.rr(rr.name, rr.type, QCLASS_IN, ttl, () => {
        w.u16(rr.priority);
        w.u16(rr.weight);
        w.u16(rr.port);
        w.nameInFull(rr.target);
      });
    case QTYPE.SOA:
      return w.rr(rr.name, rr.type, QCLASS_IN, ttl, () => {
        w.name(rr.mname);
        w.name(rr.rname);
        w.u32(rr.serial);
        w.u32(3600);
        w.u32(600);
        w.u32(86400);
        w.u32(Math.min(ttl >>> 0, 0x7fffffff));
      });
    default: {
      const never: never = rr;
      throw new Error(`packer: no encoding for record ${JSON.stringify(never)}`);
    }
  }
}

/** 16 bytes of an IPv6 text address (the index holds well-formed ones; anything else is an error). */
export function ipv6Bytes(addr: string): Buffer {
  const dbl = addr.indexOf('::');
  if (dbl >= 0 && addr.indexOf('::', dbl + 1) >= 0) throw notIpv6(addr);
  const head = hexGroups(addr, 0, dbl < 0 ? addr.length : dbl);
  const tail = dbl < 0 ? [] : hexGroups(addr, dbl + 2, addr.length);
  if (dbl < 0 ? head.length !== 8 : head.length + tail.length > 7) throw notIpv6(addr);
  const out = Buffer.alloc(16);
  head.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  tail.forEach((g, i) => out.writeUInt16BE(g, (8 - tail.length + i) * 2));
  return out;
}

/** Colon-separated groups of 1-4 hex digits in addr[from, to) (hand-rolled: this runs per answer). */
function hexGroups(addr: string, from: number, to: number): number[] {
  const out: number[] = [];
  if (from === to) return out;
  let v = 0,
    digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? addr.charCodeAt(i) : 0x3a;
    if (c === 0x3a) {
      if (digits === 0) throw notIpv6(addr);
      out.push(v);
      v = 0;
      digits = 0;
      continue;
    }
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0 || ++digits > 4) throw notIpv6(addr);
    v = (v << 4) | d;
  }
  return out;
}

const notIpv6 = (addr: string): Error => new Error(`not an IPv6 address: ${addr}`);
