// The thin server: one message in, one message (or silence) out. Maps lookup
// results to packets, keeps the encoded-answer cache, hands other names to
// the forwarder. Transport-free, so tests and the bench can drive it directly.
import { AnswerCache, materialize } from './cache.js';
import type { Forwarder } from './forward.js';
import type { DnsIndexer } from './indexer.js';
import { lookup } from './lookup.js';
import { packResponse } from './pack.js';
import { QCLASS_IN, RCODE } from './names.js';
import type { QuerierResolver } from './querier.js';
import type { DnsStats } from './stats.js';
import { errorWithQuestion, guardQuery, headerOnly, questionName, type Query } from './wire.js';
import type { Logger } from '../log.js';
import type { Guarded } from './wire.js';

export interface EngineOptions {
  indexer: DnsIndexer;
  querier: QuerierResolver;
  forwarder: Forwarder | null;
  ttl: number;
  /** largest UDP answer we send when the client's EDNS allows more (DNS flag day: 1232) */
  maxUdpSize: number;
  logger: Logger;
  /** keep encoded answers (default true; false measures the slow path) */
  cache?: boolean;
  /** count queries by type, rcode and transport, and time them */
  stats?: DnsStats;
}

export type Reply = Buffer | null | Promise<Buffer | null>;

export class DnsEngine {
  readonly cache = new AnswerCache();
  private readonly ra: boolean;

  constructor(private readonly o: EngineOptions) {
    this.ra = o.forwarder !== null;
    o.indexer.subscribe((nets) => this.cache.invalidate(nets));
  }

  /** Answer one message from `src`. Never throws: an internal error is SERVFAIL. */
  handle(msg: Buffer, src: string, tcp: boolean): Reply {
    const stats = this.o.stats;
    const t0 = stats ? performance.now() : 0;
    const g = guardQuery(msg);
    const out = this.reply(g, msg, src, tcp);
    if (!stats) return out;
    // The question was parsed once, above: its type (-1: unparsable) labels the count.
    const qtype = g.kind === 'query' ? g.query.qtype : -1;
    if (out === null || Buffer.isBuffer(out)) stats.record(tcp, qtype, out, (performance.now() - t0) / 1000);
    else
      out.then(
        (b) => stats.record(tcp, qtype, b, (performance.now() - t0) / 1000),
        () => stats.record(tcp, qtype, null, (performance.now() - t0) / 1000),
      );
    return out;
  }

  private reply(g: Guarded, msg: Buffer, src: string, tcp: boolean): Reply {
    if (g.kind !== 'query') return g.kind === 'drop' ? null : headerOnly(g.id, g.opcode, g.rd, g.rcode);
    const q = g.query;
    try {
      return this.answer(msg, q, src, tcp);
    } catch (err) {
      this.o.logger.error({ err: String(err) }, 'dns: internal error');
      return this.error(msg, q, RCODE.SERVFAIL);
    }
  }

  private error(msg: Buffer, q: Query, rcode: number): Buffer {
    return errorWithQuestion(msg, q, rcode, this.ra, this.o.maxUdpSize);
  }

  private answer(msg: Buffer, q: Query, src: string, tcp: boolean): Reply {
    if (q.opt && q.opt.version > 0) return this.error(msg, q, RCODE.BADVERS);
    if (q.qclass !== QCLASS_IN) return this.error(msg, q, RCODE.REFUSED);
    const index = this.o.indexer.current;
    if (!index.ready) return this.error(msg, q, RCODE.SERVFAIL);
    const who = this.o.querier.of(src, index);
    if (who.networkId === null) return this.error(msg, q, RCODE.REFUSED);
    const limit = tcp ? 65535 : q.opt ? Math.min(Math.max(q.opt.udpSize, 512), this.o.maxUdpSize) : 512;

    // Fast path: replay the encoded answer.
    const key = AnswerCache.key(q);
    const hit = this.cache.get(who.networkId, key);
    if (hit) return materialize(hit, msg, q, limit);

    // Miss path: packed directly (dns2's bit-per-element writer was most of its cost).
    const name = questionName(msg, q.qnameEnd);
    const res = lookup(index, name, q.qtype, who.networkId, who.region);
    switch (res.kind) {
      case 'notready':
        return this.error(msg, q, RCODE.SERVFAIL);
      case 'refused':
        return this.error(msg, q, RCODE.REFUSED);
      case 'forward': {
        const fwd = this.o.forwarder;
        if (!fwd) return this.error(msg, q, RCODE.REFUSED);
        return fwd.forward(msg, q, tcp).then(
          (r) => r ?? this.error(msg, q, RCODE.SERVFAIL),
          () => this.error(msg, q, RCODE.SERVFAIL),
        );
      }
    }
    const enc = packResponse(
      {
        id: q.id,
        rd: (msg[2]! & 0x01) !== 0,
        cd: (msg[3]! & 0x10) !== 0,
        ra: this.ra,
        rcode: res.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR,
        question: { name, type: q.qtype },
        answers: res.kind === 'answer' ? res.answers : [],
        authority: res.kind === 'answer' ? [] : res.authority,
        additional: res.kind === 'answer' ? res.additional : undefined,
        ednsSize: q.opt ? this.o.maxUdpSize : null,
        ttl: this.o.ttl,
      },
      res.kind === 'answer' && res.ordered,
    );
    if (enc.qEnd !== q.qEnd) throw new Error('question length changed in encoding');
    const cacheable = this.o.cache !== false && (res.kind !== 'answer' || res.cacheable);
    const entry = cacheable
      ? this.cache.set(who.networkId, key, enc, q.opt !== null)
      : // (fields spelled out: an object spread here took most of the miss path's time)
        { buf: enc.buf, qEnd: enc.qEnd, rotatable: enc.rotatable, turn: 0, truncated: null, hasOpt: q.opt !== null };
    return materialize(entry, msg, q, limit);
  }
}
