// The generic encoder: dns2 parses guarded queries and builds whole packets.
// The only module that imports dns2. Off the serving path since pack.ts
// builds the same bytes directly; kept as the reference the packer is tested
// against, and as the bench's "generic encoder" row.
import { Packet, type Header, type Resource } from 'dns2';
import type { Rr } from './lookup.js';
import { QCLASS_IN, QTYPE, splitTxt } from './names.js';
import { fitAdditional, fitAnswers, questionEnd, rotatableCount, type Encoded, type ResponseSpec } from './response.js';

export type { Encoded, ResponseSpec } from './response.js';

// dns2's SRV encoder compresses the target, which RFC 2782 forbids ("name
// compression is not to be used for this field"): write it in full, and keep
// it out of the compression table (this module is dns2's only user here).
type NameTable = { names?: Map<string, number> };
const srv = (Packet as unknown as { Resource: { SRV: { encode(record: unknown, writer: NameTable): void } } }).Resource.SRV;
const encodeSrv = srv.encode;
srv.encode = function (record, writer) {
  const names = writer.names;
  writer.names = undefined;
  try {
    encodeSrv.call(this, record, writer);
  } finally {
    writer.names = names;
  }
};

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

/** Build a whole response with dns2; answers beyond one TCP message are dropped. */
export function encodeResponse(spec: ResponseSpec, ordered: boolean): Encoded {
  const answers = fitAnswers(spec.question.name, spec.answers, spec.ednsSize !== null);
  const packet = new Packet();
  packet.header = new Packet.Header({
    id: spec.id,
    qr: 1,
    opcode: 0,
    aa: 1,
    rd: spec.rd ? 1 : 0,
    ra: spec.ra ? 1 : 0,
    rcode: spec.rcode,
    ...(spec.cd ? { cd: 1 } : {}),
  } as Partial<Header>);
  packet.questions = [new Packet.Question(spec.question.name, spec.question.type, QCLASS_IN)];
  packet.answers = answers.map((rr) => resource(rr, spec.ttl));
  packet.authorities = spec.authority.map((rr) => resource(rr, spec.ttl));
  packet.additionals = fitAdditional(spec.question.name, answers, spec.additional, spec.ednsSize !== null).map((rr) => resource(rr, spec.ttl));
  if (spec.ednsSize !== null) {
    packet.additionals.push({
      name: '',
      type: QTYPE.OPT,
      class: spec.ednsSize,
      ttl: 0,
      extendedRcode: 0,
      version: 0,
      doFlag: false,
      rdata: [],
    } as unknown as Resource);
  }
  const buf = packet.toBuffer();
  const qEnd = questionEnd(spec.question.name);
  return { buf, qEnd, rotatable: ordered ? 0 : rotatableCount(buf, qEnd, answers) };
}

function resource(rr: Rr, ttl: number): Resource {
  const base = { name: rr.name, type: rr.type, class: QCLASS_IN, ttl };
  switch (rr.type) {
    case QTYPE.AAAA:
      return { ...base, address: rr.address } as Resource;
    case QTYPE.TXT:
      return { ...base, data: splitTxt(rr.items.join(rr.sep)) as unknown as string[] } as Resource;
    case QTYPE.PTR:
      return { ...base, domain: rr.target } as Resource;
    case QTYPE.NS:
      return { ...base, ns: rr.target } as Resource;
    case QTYPE.SRV:
      return { ...base, priority: rr.priority, weight: rr.weight, port: rr.port, target: rr.target } as Resource;
    case QTYPE.SOA:
      return {
        ...base,
        primary: rr.mname,
        admin: rr.rname,
        serial: rr.serial,
        refresh: 3600,
        retry: 600,
        expiration: 86400,
        minimum: ttl,
      } as Resource;
  }
}
