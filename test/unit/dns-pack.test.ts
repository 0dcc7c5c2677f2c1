// The miss path's packer (src/dns/pack.ts) against the generic dns2 encoder
// (src/dns/encode.ts): byte-for-byte the same packet for NXDOMAIN, NODATA and
// answers of every record type, with and without EDNS, any flags, any case;
// then every lookup result the fixture index gives for a sweep of names.
import assert from 'node:assert/strict';
import { encodeResponse, parseQuestion, type ResponseSpec } from '../../src/dns/encode.js';
import { buildIndex } from '../../src/dns/index.js';
import { lookup, type Rr } from '../../src/dns/lookup.js';
import { HOSTMASTER, NS_NAME, QTYPE, RCODE, reverseName } from '../../src/dns/names.js';
import { ipv6Bytes, packResponse } from '../../src/dns/pack.js';
import { guardQuery, questionName } from '../../src/dns/wire.js';
import { DB_1, EXT, fixtureReplica, LAPTOP, NET_ACME, NET_ACME_STAGING, NET_GLOBEX, rng, WEB_AMS, WEB_IAD, WEB_SYD } from '../../testkit/dns-fixture.js';
import { buildQuery, decode, encodeName } from '../../testkit/dns-packets.js';

const soa = (zone: string, serial = 100): Rr => ({ type: QTYPE.SOA, name: zone, mname: NS_NAME, rname: HOSTMASTER, serial });
const aaaa = (name: string, ...addrs: string[]): Rr[] => addrs.map((address) => ({ type: QTYPE.AAAA, name, address }));

function spec(name: string, type: number, more: Partial<ResponseSpec> = {}): ResponseSpec {
  return {
    id: 0x1234,
    rd: true,
    cd: false,
    ra: false,
    rcode: RCODE.NOERROR,
    question: { name, type },
    answers: [],
    authority: [],
    ednsSize: null,
    ttl: 5,
    ...more,
  };
}

function same(s: ResponseSpec, ordered = false): void {
  const fast = packResponse(s, ordered);
  const ref = encodeResponse(s, ordered);
  assert.equal(fast.buf.toString('hex'), ref.buf.toString('hex'), `bytes of ${s.question.name} type ${s.question.type}`);
  assert.equal(fast.qEnd, ref.qEnd);
  assert.equal(fast.rotatable, ref.rotatable);
}

const BIG_TXT = Array.from({ length: 400 }, (_, i) => `instance=${i.toString(16).padStart(14, '0')},app=web,ip=fdaa:0:1:a7b:7d:f066:b83b:2,region=iad`);

const MANY = Array.from({ length: 3000 }, (_, i) => `fdaa:0:1:a7b:7d:${i.toString(16)}:0:2`);

const table: { title: string; s: ResponseSpec; ordered?: boolean }[] = [
  { title: 'NXDOMAIN under internal', s: spec('nope.internal', QTYPE.AAAA, { rcode: RCODE.NXDOMAIN, authority: [soa('internal')] }) },
  {
    title: 'NXDOMAIN, question in capitals, EDNS, CD, RA',
    s: spec('R4nD0M.Web.INTERNAL', QTYPE.AAAA, { rcode: RCODE.NXDOMAIN, authority: [soa('internal', 7)], ednsSize: 1232, cd: true, ra: true }),
  },
  {
    title: 'NXDOMAIN under _ns.internal (the SOA MNAME compresses into the question)',
    s: spec('x._ns.internal', QTYPE.TXT, { rcode: RCODE.NXDOMAIN, authority: [soa('internal')] }),
  },
  { title: 'NXDOMAIN, no RD', s: spec('a.b.c.d.internal', QTYPE.A, { rd: false, rcode: RCODE.NXDOMAIN, authority: [soa('internal', 0xffffffff)] }) },
  { title: 'NXDOMAIN in the reverse zone', s: spec('1.2.3.a.a.d.f.ip6.arpa', QTYPE.PTR, { rcode: RCODE.NXDOMAIN, authority: [soa('a.a.d.f.ip6.arpa')] }) },
  { title: 'NODATA', s: spec('web.internal', QTYPE.A, { authority: [soa('internal')] }) },
  { title: 'NODATA, EDNS 4096 advertised as 1232', s: spec('vm.web.internal', 99, { authority: [soa('internal')], ednsSize: 1232 }) },
  { title: 'NODATA with latin1 bytes in the question', s: spec('caf\u00e9.\u00c0b.internal', QTYPE.AAAA, { authority: [soa('internal')] }) },
  { title: 'one AAAA', s: spec('d00dfeed000004.vm.web.internal', QTYPE.AAAA, { answers: aaaa('d00dfeed000004.vm.web.internal', WEB_SYD.address) }) },
  {
    title: 'four AAAA, rotatable',
    s: spec('WEB.internal', QTYPE.AAAA, { answers: aaaa('web.internal', WEB_IAD.address, WEB_AMS.address, WEB_SYD.address, DB_1.address), ednsSize: 1232 }),
  },
  {
    title: 'AAAA in distance order',
    s: spec('top2.nearest.of.web.internal', QTYPE.AAAA, { answers: aaaa('top2.nearest.of.web.internal', WEB_AMS.address, WEB_IAD.address) }),
    ordered: true,
  },
  {
    title: 'AAAA with zero runs',
    s: spec('x.internal', QTYPE.AAAA, { answers: aaaa('x.internal', 'fdaa::3', '::1', 'fdaa:0:1::', 'fdaa:0:0:1:0:0:0:2', 'FDAA:FFFF:1:2:3:4:5:6') }),
  },
  {
    title: 'short TXT',
    s: spec('_apps.internal', QTYPE.TXT, { answers: [{ type: QTYPE.TXT, name: '_apps.internal', items: ['db', 'empty', 'web'], sep: ',' }] }),
  },
  { title: 'empty TXT item list', s: spec('_peer.internal', QTYPE.TXT, { answers: [{ type: QTYPE.TXT, name: '_peer.internal', items: [''], sep: ',' }] }) },
  {
    title: 'TXT over 255 bytes, split',
    s: spec('_instances.internal', QTYPE.TXT, { answers: [{ type: QTYPE.TXT, name: '_instances.internal', items: BIG_TXT.slice(0, 9), sep: ';' }] }),
  },
  {
    title: 'TXT with UTF-8',
    s: spec('vms.web.internal', QTYPE.TXT, { answers: [{ type: QTYPE.TXT, name: 'vms.web.internal', items: ['z\u00fcrich', '\u6771\u4eac'], sep: ',' }] }),
  },
  {
    title: 'TXT cut to one message',
    s: spec('_instances.internal', QTYPE.TXT, {
      answers: [{ type: QTYPE.TXT, name: '_instances.internal', items: Array(8).fill(BIG_TXT).flat(), sep: ';' }],
      ednsSize: 1232,
    }),
  },
  { title: 'many AAAA', s: spec('many.internal', QTYPE.AAAA, { answers: aaaa('many.internal', ...MANY.slice(0, 200)) }) },
  {
    title: "SRV with the targets' AAAA in the additional section",
    s: spec('_http._tcp.web.internal', QTYPE.SRV, {
      answers: [{ type: QTYPE.SRV, name: '_http._tcp.web.internal', priority: 10, weight: 10, port: 8080, target: 'f066b83b000001.vm.web.internal' }],
      additional: [{ type: QTYPE.AAAA, name: 'f066b83b000001.vm.web.internal', address: WEB_IAD.address }],
      ednsSize: 1232,
    }),
  },
  {
    title: 'PTR',
    s: spec(reverseName(WEB_IAD.address)!, QTYPE.PTR, {
      answers: [{ type: QTYPE.PTR, name: reverseName(WEB_IAD.address)!, target: 'f066b83b000001.vm.web.internal' }],
      ednsSize: 512,
    }),
  },
  { title: 'apex ANY: SOA and NS', s: spec('Internal', QTYPE.ANY, { answers: [soa('internal'), { type: QTYPE.NS, name: 'internal', target: NS_NAME }] }) },
  {
    title: 'reverse apex ANY',
    s: spec('a.a.d.f.ip6.arpa', QTYPE.ANY, { answers: [soa('a.a.d.f.ip6.arpa'), { type: QTYPE.NS, name: 'a.a.d.f.ip6.arpa', target: NS_NAME }] }),
  },
  { title: 'TTL 0', s: spec('web.internal', QTYPE.AAAA, { answers: aaaa('web.internal', WEB_IAD.address), authority: [], ttl: 0 }) },
  { title: 'a TTL past 2^31 clamps', s: spec('nope.internal', QTYPE.AAAA, { rcode: RCODE.NXDOMAIN, authority: [soa('internal')], ttl: 0xfffffff0 }) },
  { title: 'root question', s: spec('', QTYPE.NS, { rcode: RCODE.REFUSED }) },
];

describe('dns packer (miss path) against the generic encoder', () => {
  for (const t of table) it(t.title, () => same(t.s, t.ordered));

  // dns2 takes minutes on this one (it re-materializes the whole message after each record): compare with a shorter list.
  it('cuts AAAA answers to one 64 KiB message as the generic encoder would', () => {
    const fast = packResponse(spec('many.internal', QTYPE.AAAA, { answers: aaaa('many.internal', ...MANY) }), false);
    assert.ok(fast.buf.length <= 65535);
    const n = decode(fast.buf).answers.length;
    assert.ok(n > 2000 && n < MANY.length, `${n} answers kept`);
    assert.equal(fast.rotatable, n);
    assert.equal(
      fast.buf.toString('hex'),
      packResponse(spec('many.internal', QTYPE.AAAA, { answers: aaaa('many.internal', ...MANY.slice(0, n)) }), false).buf.toString('hex'),
    );
  });

  // RFC 2782: "name compression is not to be used for this field". The owner
  // is the question (a pointer, 2 bytes), then type, class, TTL, RDLENGTH, then
  // priority, weight and port: the target starts 18 bytes after the question.
  it('writes every SRV target in full, even under a suffix the message already holds (both encoders)', () => {
    const targets = ['f066b83b000001.vm.web.internal', 'a1b2c3d4000002.vm.web.internal'];
    const s = spec('_http._tcp.web.internal', QTYPE.SRV, {
      answers: targets.map((target) => ({ type: QTYPE.SRV, name: '_http._tcp.web.internal', priority: 10, weight: 10, port: 8080, target })),
      additional: targets.map((t, i) => ({ type: QTYPE.AAAA, name: t, address: [WEB_IAD, WEB_AMS][i]!.address })),
      ednsSize: 1232,
    });
    same(s);
    for (const enc of [packResponse(s, false), encodeResponse(s, false)]) {
      let at = enc.qEnd;
      for (const target of targets) {
        assert.equal(enc.buf.readUInt16BE(at), 0xc00c, 'the owner still points at the question');
        const full = encodeName(target);
        assert.equal(enc.buf.readUInt16BE(at + 10), 6 + full.length, `RDLENGTH of ${target}`);
        assert.equal(enc.buf.subarray(at + 18, at + 18 + full.length).toString('hex'), full.toString('hex'), `${target} written in full`);
        at += 18 + full.length;
      }
      const d = decode(enc.buf);
      assert.equal(d.answers.length, 2);
      assert.deepEqual(
        d.additional.filter((r) => r.type === QTYPE.AAAA).map((r) => r.name),
        targets,
      );
    }
  });

  it('reads the question name and flags as dns2 does', () => {
    const rand = rng(13);
    const names = ['web.internal', 'WEB.Internal', 'caf\u00e9.internal', '\u00ff\u0080.x', 'a', '_ns.internal', 'x-y_z.1.2.3.4.5.6.7.8.9.10.internal'];
    for (let i = 0; i < 200; i++) {
      const labels = Array.from({ length: 1 + Math.floor(rand() * 6) }, () =>
        String.fromCharCode(
          ...Array.from({ length: 1 + Math.floor(rand() * 20) }, () => {
            const c = 1 + Math.floor(rand() * 255);
            return c === 0x2e ? 0x2f : c; // a dot cannot be inside a label (the guard refuses it)
          }),
        ),
      );
      names.push(labels.join('.'));
    }
    for (const name of names) {
      for (const o of [{}, { rd: false, cd: true, edns: 1232 }]) {
        const msg = buildQuery(name, QTYPE.AAAA, o);
        const g = guardQuery(msg);
        assert.equal(g.kind, 'query', JSON.stringify(name));
        if (g.kind !== 'query') continue;
        const ref = parseQuestion(msg, g.query.qEnd);
        assert.equal(questionName(msg, g.query.qnameEnd), ref.name);
        assert.equal((msg[2]! & 1) !== 0, ref.rd);
        assert.equal((msg[3]! & 0x10) !== 0, ref.cd);
      }
    }
  });

  it('writes IPv6 addresses as dns2 does, and refuses what is not one', () => {
    for (const a of ['fdaa::3', '::1', '::', 'fdaa:0:18:a7b:7d:f066:b83b:2', 'fdaa::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', 'FdAa:0:0:1::2']) {
      const ref = encodeResponse(spec('x.internal', QTYPE.AAAA, { answers: aaaa('x.internal', a) }), true).buf;
      assert.equal(ipv6Bytes(a).toString('hex'), ref.subarray(ref.length - 16).toString('hex'), a);
    }
    for (const bad of [
      'fdaa',
      '1:2:3:4:5:6:7:8:9',
      'fdaa::g',
      '1::2::3',
      'fdaa:12345::1',
      '1:2:3:4:5:6:7:8::',
      ':1::',
      '1:::2',
      '',
      ':',
      '1:2:3:4:5:6:7:8:',
      '::ffff:192.0.2.1',
    ])
      assert.throws(() => ipv6Bytes(bad), /not an IPv6 address/, bad);
  });

  it('builds the same bytes for every lookup result over the fixture (names × types × networks × EDNS)', () => {
    const index = buildIndex(fixtureReplica());
    const names = [
      'internal',
      '_apps.internal',
      '_instances.internal',
      'all._instances.internal',
      '_peer.internal',
      '_ns.internal',
      'laptop._peer.internal',
      'nope._peer.internal',
      'web.internal',
      'Web.Internal',
      'global.web.internal',
      'iad.web.internal',
      'ord.web.internal',
      'regions.web.internal',
      'all.regions.web.internal',
      'vms.web.internal',
      'all.vms.web.internal',
      'vm.web.internal',
      `${WEB_IAD.id}.vm.web.internal`,
      'f066.vm.web.internal',
      'worker.process.web.internal',
      'of.web.internal',
      'nearest.of.web.internal',
      'top1.nearest.of.web.internal',
      'top9.nearest.of.web.internal',
      '_metadata.web.internal',
      'kv._metadata.web.internal',
      'role.kv._metadata.db.internal',
      'primary.role.kv._metadata.db.internal',
      'db.internal',
      'empty.internal',
      'api.internal',
      'stg.internal',
      'x9f3k2.internal',
      'x9f3k2.web.internal',
      'a.b.c.web.internal',
      'a.a.d.f.ip6.arpa',
      reverseName(WEB_IAD.address)!,
      reverseName(LAPTOP.address)!,
      reverseName(EXT.address)!,
      '0.0.0.0.a.a.d.f.ip6.arpa',
      'f.f.a.a.d.f.ip6.arpa',
    ];
    const types = [QTYPE.AAAA, QTYPE.A, QTYPE.TXT, QTYPE.PTR, QTYPE.SOA, QTYPE.NS, QTYPE.ANY, 99];
    let compared = 0;
    const kinds = new Set<string>();
    for (const net of [NET_ACME, NET_GLOBEX, NET_ACME_STAGING]) {
      for (const name of names) {
        for (const type of types) {
          const res = lookup(index, name, type, net, 'ams');
          kinds.add(res.kind);
          if (res.kind !== 'answer' && res.kind !== 'nodata' && res.kind !== 'nxdomain') continue;
          for (const ednsSize of [null, 1232]) {
            same(
              spec(name, type, {
                id: compared & 0xffff,
                rd: compared % 2 === 0,
                cd: compared % 3 === 0,
                ednsSize,
                rcode: res.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR,
                answers: res.kind === 'answer' ? res.answers : [],
                authority: res.kind === 'answer' ? [] : res.authority,
              }),
              res.kind === 'answer' && res.ordered,
            );
            compared++;
          }
        }
      }
    }
    assert.ok(compared > 1000, `${compared} packets compared`);
    assert.deepEqual([...kinds].sort(), ['answer', 'nodata', 'nxdomain']);
  });
});
