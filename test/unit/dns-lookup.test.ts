// Table-driven cases for the pure lookup core (CoreDNS file/lookup_test.go style):
// (name, type, querier network, querier region) → result kind, answers, authority.
import assert from 'node:assert/strict';
import { buildIndex, emptyIndex } from '../../src/dns/index.js';
import { lookup, type LookupResult, type Rr } from '../../src/dns/lookup.js';
import { QTYPE, reverseName } from '../../src/dns/names.js';
import {
  API_1,
  DB_1,
  DB_2,
  DB_FAILED,
  EXT,
  fixtureReplica,
  GLOBEX_LAPTOP,
  LAPTOP,
  NET_ACME,
  NET_ACME_STAGING,
  NET_GLOBEX,
  STG_1,
  WEB2_1,
  WEB_AMS,
  WEB_IAD,
  WEB_SYD,
  WEB_SYD_STOPPED,
} from '../../testkit/dns-fixture.js';

const { AAAA, A, TXT, PTR, SOA, NS, ANY, AXFR } = QTYPE;
const aaaa = (...xs: { address: string }[]): string[] => xs.map((x) => `AAAA ${x.address}`);
const SOA_INT = 'SOA internal 100';
const SOA_REV = 'SOA a.a.d.f.ip6.arpa 100';

function show(rr: Rr): string {
  switch (rr.type) {
    case QTYPE.AAAA:
      return `AAAA ${rr.address}`;
    case QTYPE.TXT:
      return `TXT ${rr.items.join(rr.sep)}`;
    case QTYPE.PTR:
      return `PTR ${rr.target}`;
    case QTYPE.NS:
      return `NS ${rr.target}`;
    case QTYPE.SOA:
      return `SOA ${rr.name} ${rr.serial}`;
    case QTYPE.SRV:
      return `SRV ${rr.priority} ${rr.weight} ${rr.port} ${rr.target}`;
  }
}

interface Case {
  qname: string;
  qtype: number;
  net?: number | null;
  region?: string | null;
  kind: LookupResult['kind'];
  answer?: string[];
  authority?: string[];
}

const ok = (qname: string, qtype: number, answer: string[], more: Partial<Case> = {}): Case => ({ qname, qtype, kind: 'answer', answer, ...more });
const nx = (qname: string, qtype: number, more: Partial<Case> = {}): Case => ({ qname, qtype, kind: 'nxdomain', authority: [SOA_INT], ...more });
const nodata = (qname: string, qtype: number, more: Partial<Case> = {}): Case => ({ qname, qtype, kind: 'nodata', authority: [SOA_INT], ...more });

const WEB_ALL = aaaa(WEB_AMS, WEB_SYD, EXT, WEB_IAD); // id order: a1b2…, d00d…, ext1, f066…

const cases: Case[] = [
  // <app>.internal and its case/trailing-dot variants
  ok('web.internal', AAAA, WEB_ALL),
  ok('WeB.InTeRnAl.', AAAA, WEB_ALL),
  ok('global.web.internal', AAAA, WEB_ALL),
  ok('web.internal', AAAA, [
    'AAAA fdaa:0:1:0:2:a1b2:c3d4:2',
    'AAAA fdaa:0:1:0:3:d00d:feed:2',
    'AAAA fdaa:0:1:a7b:7d:0:b:2',
    'AAAA fdaa:0:1:a7b:7d:f066:b83b:2',
  ]),
  nodata('web.internal', A),
  nodata('web.internal', TXT),
  nodata('global.web.internal', TXT),
  nx('nope.internal', AAAA),
  nx('nope.internal', TXT),
  nx('x.y.nope.internal', AAAA),
  nodata('empty.internal', AAAA),
  nodata('regions.empty.internal', TXT),
  nodata('vms.empty.internal', TXT),
  // regions
  ok('iad.web.internal', AAAA, aaaa(WEB_IAD)),
  ok('ord.web.internal', AAAA, aaaa(EXT)), // an external peer counts in its region
  ok('syd.web.internal', AAAA, aaaa(WEB_SYD)), // the stopped syd machine is not there
  nx('lhr.web.internal', AAAA),
  nodata('iad.web.internal', TXT),
  // isolation: other orgs and other networks of the same org
  nx('web.internal', AAAA, { net: NET_GLOBEX }),
  ok('api.internal', AAAA, aaaa(API_1), { net: NET_GLOBEX }),
  nx('api.internal', AAAA),
  ok('web2.internal', AAAA, aaaa(WEB2_1), { net: NET_GLOBEX }),
  nx('stg.internal', AAAA),
  ok('stg.internal', AAAA, aaaa(STG_1), { net: NET_ACME_STAGING }),
  nx('web.internal', AAAA, { net: NET_ACME_STAGING }),
  // vm ids: full, prefix, ambiguous, stopped, peers by name
  ok('f066b83b000001.vm.web.internal', AAAA, aaaa(WEB_IAD)),
  ok('F066.vm.web.internal', AAAA, aaaa(WEB_IAD)),
  ok('d.vm.web.internal', AAAA, aaaa(WEB_SYD)),
  ok('ext1.vm.web.internal', AAAA, aaaa(EXT)),
  ok('db000001aaaaaa.vm.db.internal', AAAA, aaaa(DB_1)),
  nx('db0000.vm.db.internal', AAAA), // ambiguous prefix
  nx('5ca1ab1e000003.vm.web.internal', AAAA), // stopped
  nx('f066b83b000001.vm.db.internal', AAAA), // another app's machine
  nx('f066b83b000001.vm.web.internal', AAAA, { net: NET_GLOBEX }),
  nodata('vm.web.internal', AAAA), // empty non-terminal
  // process groups
  ok('worker.process.web.internal', AAAA, aaaa(WEB_AMS)),
  ok('app.process.web.internal', AAAA, aaaa(WEB_SYD, WEB_IAD)),
  nx('nope.process.web.internal', AAAA),
  nodata('process.web.internal', AAAA),
  // nearest: great-circle from the querier's region, ties and unknown region in id order
  ok('top1.nearest.of.web.internal', AAAA, aaaa(WEB_AMS), { region: 'ams' }),
  ok('top2.nearest.of.web.internal', AAAA, aaaa(WEB_IAD, EXT), { region: 'iad' }),
  ok('top3.nearest.of.web.internal', AAAA, aaaa(WEB_SYD, EXT, WEB_IAD), { region: 'syd' }),
  ok('top10.nearest.of.web.internal', AAAA, aaaa(WEB_SYD, EXT, WEB_IAD, WEB_AMS), { region: 'syd' }),
  ok('top2.nearest.of.web.internal', AAAA, aaaa(WEB_AMS, WEB_SYD), { region: null }),
  ok('top2.nearest.of.web.internal', AAAA, aaaa(WEB_AMS, WEB_SYD), { region: 'nowhere' }),
  nx('top0.nearest.of.web.internal', AAAA),
  nx('topx.nearest.of.web.internal', AAAA),
  nx('top1.nearest.web.internal', AAAA),
  nodata('nearest.of.web.internal', AAAA),
  nodata('of.web.internal', AAAA),
  // metadata
  ok('primary.role.kv._metadata.web.internal', AAAA, aaaa(WEB_SYD)),
  ok('PRIMARY.Role.kv._metadata.web.internal', AAAA, aaaa(WEB_SYD)),
  ok('primary.role.kv._metadata.db.internal', AAAA, aaaa(DB_1)),
  ok('replica.role.kv._metadata.db.internal', AAAA, aaaa(DB_2)),
  nx('secondary.role.kv._metadata.db.internal', AAAA),
  nodata('role.kv._metadata.db.internal', AAAA),
  nx('nokey.kv._metadata.db.internal', AAAA),
  nodata('kv._metadata.db.internal', AAAA),
  nodata('_metadata.db.internal', AAAA),
  nx('primary.role.kv._metadata.db.internal', AAAA, { net: NET_GLOBEX }),
  // peers
  ok('laptop._peer.internal', AAAA, aaaa(LAPTOP)),
  ok('laptop._peer.internal', AAAA, aaaa(GLOBEX_LAPTOP), { net: NET_GLOBEX }),
  ok('ext1._peer.internal', AAAA, aaaa(EXT)),
  nx('nope._peer.internal', AAAA),
  nx('laptop._peer.internal', AAAA, { net: NET_ACME_STAGING }),
  ok('_peer.internal', TXT, ['TXT ext1,laptop']),
  ok('_peer.internal', TXT, ['TXT laptop'], { net: NET_GLOBEX }),
  nodata('_peer.internal', AAAA),
  // TXT
  ok('_apps.internal', TXT, ['TXT db,empty,web']),
  ok('_apps.internal', TXT, ['TXT api,web2'], { net: NET_GLOBEX }),
  ok('_APPS.internal', TXT, ['TXT stg'], { net: NET_ACME_STAGING }),
  ok('regions.web.internal', TXT, ['TXT ams,iad,ord,syd']),
  ok('regions.db.internal', TXT, ['TXT ams,iad']),
  ok('all.regions.db.internal', TXT, ['TXT ams,iad,syd']), // failed machine in syd
  ok('vms.web.internal', TXT, ['TXT a1b2c3d4000002 ams,d00dfeed000004 syd,ext1 ord,f066b83b000001 iad']),
  ok('all.vms.web.internal', TXT, ['TXT 5ca1ab1e000003 syd,a1b2c3d4000002 ams,d00dfeed000004 syd,ext1 ord,f066b83b000001 iad']),
  ok('vms.db.internal', TXT, [`TXT ${DB_1.id} iad,${DB_2.id} ams`]),
  ok('_instances.internal', TXT, [`TXT ${[DB_1, DB_2, WEB_AMS, WEB_SYD, EXT, WEB_IAD].map(inst).join(';')}`]),
  ok('all._instances.internal', TXT, [`TXT ${[DB_1, DB_2, DB_FAILED, WEB_SYD_STOPPED, WEB_AMS, WEB_SYD, EXT, WEB_IAD].map(inst).join(';')}`]),
  ok('_instances.internal', TXT, [`TXT ${inst(API_1)};${inst(WEB2_1)}`], { net: NET_GLOBEX }),
  nodata('vms.web.internal', AAAA),
  nx('all.web.internal', TXT),
  nx('all.internal', TXT),
  // apex, name server
  ok('internal', SOA, [SOA_INT]),
  ok('internal', NS, ['NS _ns.internal']),
  ok('internal', ANY, [SOA_INT, 'NS _ns.internal']),
  nodata('internal', AAAA),
  ok('_ns.internal', AAAA, ['AAAA fdaa:0:1::3']),
  ok('_ns.internal', AAAA, ['AAAA fdaa:0:2::3'], { net: NET_GLOBEX }),
  ok('web.internal', ANY, WEB_ALL),
  { qname: 'internal', qtype: AXFR, kind: 'refused' },
  // reverse zone
  ok(reverseName(WEB_IAD.address)!, PTR, [`PTR ${WEB_IAD.id}.vm.web.internal`]),
  ok(reverseName(WEB_IAD.address)!.toUpperCase(), PTR, [`PTR ${WEB_IAD.id}.vm.web.internal`]),
  ok(reverseName(LAPTOP.address)!, PTR, ['PTR laptop._peer.internal']),
  ok(reverseName(EXT.address)!, PTR, ['PTR ext1._peer.internal']),
  ok(reverseName(API_1.address)!, PTR, [`PTR ${API_1.id}.vm.api.internal`], { net: NET_GLOBEX }),
  { qname: reverseName(WEB_IAD.address)!, qtype: PTR, net: NET_GLOBEX, kind: 'nxdomain', authority: [SOA_REV] },
  { qname: reverseName(WEB_SYD_STOPPED.address)!, qtype: PTR, kind: 'nxdomain', authority: [SOA_REV] },
  { qname: reverseName(WEB_IAD.address)!, qtype: AAAA, kind: 'nodata', authority: [SOA_REV] },
  ok('a.a.d.f.ip6.arpa', SOA, [SOA_REV]),
  ok('a.a.d.f.ip6.arpa', NS, ['NS _ns.internal']),
  { qname: '1.0.0.0.0.0.0.0.a.a.d.f.ip6.arpa', qtype: PTR, kind: 'nodata', authority: [SOA_REV] },
  { qname: '1.0.0.0.0.0.0.0.a.a.d.f.ip6.arpa', qtype: PTR, net: NET_GLOBEX, kind: 'nxdomain', authority: [SOA_REV] },
  { qname: 'x.a.a.d.f.ip6.arpa', qtype: PTR, kind: 'nxdomain', authority: [SOA_REV] },
  // not ours: forward (the server refuses when it has no upstream)
  { qname: 'example.com', qtype: AAAA, kind: 'forward' },
  { qname: 'internal.example.com', qtype: AAAA, kind: 'forward' },
  { qname: 'notinternal', qtype: AAAA, kind: 'forward' },
  { qname: '1.0.0.127.in-addr.arpa', qtype: PTR, kind: 'forward' },
  { qname: '1.0.0.0.0.0.0.0.b.a.d.f.ip6.arpa', qtype: PTR, kind: 'forward' },
  { qname: '', qtype: NS, kind: 'forward' },
  // queriers in no network
  { qname: 'web.internal', qtype: AAAA, net: null, kind: 'refused' },
  { qname: 'example.com', qtype: AAAA, net: null, kind: 'refused' },
  { qname: 'web.internal', qtype: AAAA, net: 99, kind: 'refused' },
];

function inst(i: { app: string | null; address: string; region: string } & ({ id: string } | { name: string })): string {
  return `instance=${'id' in i ? i.id : i.name},app=${i.app},ip=${i.address},region=${i.region}`;
}

describe('dns lookup core', () => {
  const index = buildIndex(fixtureReplica(100));
  for (const c of cases) {
    const net = c.net === undefined ? NET_ACME : c.net;
    const title = `${c.qname || '.'} ${Object.entries(QTYPE).find(([, v]) => v === c.qtype)?.[0]} net=${net} region=${c.region ?? '-'} → ${c.kind}`;
    it(title, () => {
      const res = lookup(index, c.qname, c.qtype, net, c.region ?? null);
      assert.equal(res.kind, c.kind);
      if (res.kind === 'answer') assert.deepEqual(res.answers.map(show), c.answer);
      if (res.kind === 'nodata' || res.kind === 'nxdomain') assert.deepEqual(res.authority.map(show), c.authority);
    });
  }

  it('answers SERVFAIL-worthy notready before the first snapshot', () => {
    assert.equal(lookup(emptyIndex(), 'web.internal', AAAA, NET_ACME).kind, 'notready');
  });

  it('marks nearest answers ordered and not cacheable, others rotatable and cacheable', () => {
    const near = lookup(index, 'top2.nearest.of.web.internal', AAAA, NET_ACME, 'iad');
    const plain = lookup(index, 'web.internal', AAAA, NET_ACME, 'iad');
    assert.ok(near.kind === 'answer' && near.ordered && !near.cacheable);
    assert.ok(plain.kind === 'answer' && !plain.ordered && plain.cacheable);
  });
});
