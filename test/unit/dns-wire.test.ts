// The pre-parse guard: every malformed shape is rejected before dns2 sees it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { guardQuery } from '../../src/dns/wire.js';
import { RCODE } from '../../src/dns/names.js';
import { buildQuery, COUNT_BOMB, encodeName } from '../../testkit/dns-packets.js';

const q = buildQuery('Web.Internal', 28, { id: 0xbeef });
const withOpt = buildQuery('web.internal', 16, { edns: 4096 });

function mutate(b: Buffer, f: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  f(c);
  return c;
}

const header = (qd: number, an: number, ns: number, ar: number): Buffer => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(7, 0);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
};
const tail = Buffer.from([0, 28, 0, 1]);

const rejects: { name: string; msg: Buffer; rcode: number }[] = [
  { name: 'the count bomb fixture', msg: COUNT_BOMB, rcode: RCODE.FORMERR },
  { name: 'no question', msg: header(0, 0, 0, 0), rcode: RCODE.FORMERR },
  { name: 'two questions', msg: mutate(q, (c) => c.writeUInt16BE(2, 4)), rcode: RCODE.FORMERR },
  { name: 'an answer in a query', msg: mutate(q, (c) => c.writeUInt16BE(1, 6)), rcode: RCODE.FORMERR },
  { name: 'an authority in a query', msg: mutate(q, (c) => c.writeUInt16BE(1, 8)), rcode: RCODE.FORMERR },
  { name: 'two additionals', msg: mutate(withOpt, (c) => c.writeUInt16BE(2, 10)), rcode: RCODE.FORMERR },
  { name: 'additional count without a record', msg: mutate(q, (c) => c.writeUInt16BE(1, 10)), rcode: RCODE.FORMERR },
  { name: 'compression pointer in the question', msg: Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x0c]), tail]), rcode: RCODE.FORMERR },
  { name: 'pointer loop', msg: Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x0c, 0xc0, 0x0c]), tail]), rcode: RCODE.FORMERR },
  {
    name: 'label over 63 bytes',
    msg: Buffer.concat([header(1, 0, 0, 0), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0]), tail]),
    rcode: RCODE.FORMERR,
  },
  { name: 'name over 255 bytes', msg: Buffer.concat([header(1, 0, 0, 0), encodeName(Array(5).fill('a'.repeat(60)).join('.')), tail]), rcode: RCODE.FORMERR },
  { name: 'name running past the end', msg: Buffer.concat([header(1, 0, 0, 0), Buffer.from([10, 0x61, 0x62])]), rcode: RCODE.FORMERR },
  { name: 'missing type and class', msg: q.subarray(0, q.length - 2), rcode: RCODE.FORMERR },
  { name: 'trailing garbage', msg: Buffer.concat([q, Buffer.from([0])]), rcode: RCODE.FORMERR },
  { name: 'dot inside a label', msg: Buffer.concat([header(1, 0, 0, 0), Buffer.from([3, 0x61, 0x2e, 0x62, 0]), tail]), rcode: RCODE.FORMERR },
  {
    name: 'OPT with a non-root owner',
    msg: mutate(withOpt, (c) => {
      c[c.length - 11] = 1;
    }),
    rcode: RCODE.FORMERR,
  },
  { name: 'additional that is not an OPT', msg: mutate(withOpt, (c) => c.writeUInt16BE(250, c.length - 10)), rcode: RCODE.FORMERR },
  { name: 'OPT rdlength past the end', msg: mutate(withOpt, (c) => c.writeUInt16BE(4, c.length - 2)), rcode: RCODE.FORMERR },
  {
    name: 'OPT option longer than the rdata',
    msg: Buffer.concat([mutate(withOpt, (c) => c.writeUInt16BE(4, c.length - 2)), Buffer.from([0, 10, 0, 8])]),
    rcode: RCODE.FORMERR,
  },
  {
    name: 'opcode STATUS',
    msg: mutate(q, (c) => {
      c[2] = (2 << 3) | 1;
    }),
    rcode: RCODE.NOTIMP,
  },
  {
    name: 'opcode NOTIFY',
    msg: mutate(q, (c) => {
      c[2] = 4 << 3;
    }),
    rcode: RCODE.NOTIMP,
  },
  {
    name: 'opcode UPDATE',
    msg: mutate(q, (c) => {
      c[2] = 5 << 3;
    }),
    rcode: RCODE.NOTIMP,
  },
];

describe('dns pre-parse guard', () => {
  it('uses the shared count-bomb fixture when it is around', () => {
    const f = new URL('../../../../shared/fixtures/dns-count-bomb.bin', import.meta.url);
    if (existsSync(f)) assert.deepEqual(readFileSync(f), COUNT_BOMB);
    assert.equal(COUNT_BOMB.readUInt16BE(4), 34471);
    assert.equal(COUNT_BOMB.readUInt16BE(6), 40642);
  });

  for (const r of rejects) {
    it(`rejects ${r.name}`, () => {
      const g = guardQuery(r.msg);
      assert.equal(g.kind, 'reject');
      assert.ok(g.kind === 'reject');
      assert.equal(g.rcode, r.rcode);
      assert.equal(g.id, r.msg.readUInt16BE(0));
    });
  }

  it('drops what is too short to carry an ID, and responses', () => {
    for (const m of [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(11)]) assert.equal(guardQuery(m).kind, 'drop');
    assert.equal(
      guardQuery(
        mutate(q, (c) => {
          c[2]! |= 0x80;
        }),
      ).kind,
      'drop',
    );
  });

  it('passes a plain query and yields its key parts', () => {
    const g = guardQuery(q);
    assert.ok(g.kind === 'query');
    assert.equal(g.query.id, 0xbeef);
    assert.equal(g.query.qtype, 28);
    assert.equal(g.query.qclass, 1);
    assert.equal(g.query.qnameEnd, 12 + 14);
    assert.equal(g.query.qEnd, q.length);
    assert.equal(g.query.wireName, '\u0003web\u0008internal\u0000');
    assert.equal(g.query.opt, null);
  });

  it('passes a query with an OPT carrying options (cookie)', () => {
    const cookie = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    const m = Buffer.concat([mutate(withOpt, (c) => c.writeUInt16BE(cookie.length, c.length - 2)), cookie]);
    const g = guardQuery(m);
    assert.ok(g.kind === 'query');
    assert.deepEqual(g.query.opt, { udpSize: 4096, version: 0 });
  });

  it('passes the root name', () => {
    const g = guardQuery(buildQuery('', 2));
    assert.ok(g.kind === 'query');
    assert.equal(g.query.wireName, '\u0000');
  });
});
