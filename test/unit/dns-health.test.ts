// Health, SRV and lease names in the lookup core, by table (the style of
// dns-lookup.test.ts): critical machines leave every answer but the `all.`
// forms (and `<id>.vm.`/PTR, which name one machine whatever its health).
import assert from 'node:assert/strict';
import { buildIndex } from '../../src/dns/index.js';
import { lookup, type LookupResult, type Rr } from '../../src/dns/lookup.js';
import { QTYPE, reverseName } from '../../src/dns/names.js';
import { Replica } from '../../src/feed/replica.js';
import { dnsFixtureState, HOST_AMS, HOST_IAD, HOST_SYD, machine, NET_ACME } from '../../testkit/dns-fixture.js';

const { AAAA, TXT, SRV, ANY } = QTYPE;
const SOA_INT = 'SOA internal 100';
const http = { name: 'http', port: 8080, protocol: 'tcp' as const };
const checks = [{ type: 'tcp' as const, port: 8080 }];
// app `svc`: one passing (iad, lease primary), one critical (ams, also holds nothing), one without checks (syd), one stopped
const OK = machine('aa000001000001', 'svc', NET_ACME, HOST_IAD, 'started', {
  checks,
  health: 'passing',
  ports: [http, { name: 'dns', port: 53, protocol: 'udp' }],
  leases: ['primary'],
  metadata: { role: 'primary' },
});
const BAD = machine('bb000002000002', 'svc', NET_ACME, HOST_AMS, 'started', { checks, health: 'critical', ports: [http], metadata: { role: 'replica' } });
const NONE = machine('cc000003000003', 'svc', NET_ACME, HOST_SYD, 'started', { health: 'none', ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }] });
const OFF = machine('dd000004000004', 'svc', NET_ACME, HOST_SYD, 'stopped', { ports: [http], leases: [] });
// app `dead`: every machine critical
const DEAD = machine('ee000005000005', 'dead', NET_ACME, HOST_IAD, 'started', { checks, health: 'critical', ports: [http], leases: ['primary'] });

function index(): ReturnType<typeof buildIndex> {
  const s = dnsFixtureState();
  s.apps.push(
    { name: 'svc', org: 'acme', network_id: NET_ACME, created_at: s.apps[0]!.created_at },
    { name: 'dead', org: 'acme', network_id: NET_ACME, created_at: s.apps[0]!.created_at },
  );
  s.machines.push(OK, BAD, NONE, OFF, DEAD);
  const r = new Replica();
  r.applySnapshot(100, s);
  return buildIndex(r);
}

function show(rr: Rr): string {
  switch (rr.type) {
    case QTYPE.AAAA:
      return `AAAA ${rr.address}`;
    case QTYPE.TXT:
      return `TXT ${rr.items.join(rr.sep)}`;
    case QTYPE.SRV:
      return `SRV ${rr.priority} ${rr.weight} ${rr.port} ${rr.target}`;
    case QTYPE.PTR:
      return `PTR ${rr.target}`;
    default:
      return `${rr.type} ${rr.name}`;
  }
}

interface Case {
  qname: string;
  qtype: number;
  kind: LookupResult['kind'];
  answer?: string[];
  additional?: string[];
  region?: string;
}
const ok = (qname: string, qtype: number, answer: string[], more: Partial<Case> = {}): Case => ({ qname, qtype, kind: 'answer', answer, ...more });
const nx = (qname: string, qtype: number): Case => ({ qname, qtype, kind: 'nxdomain' });
const nodata = (qname: string, qtype: number): Case => ({ qname, qtype, kind: 'nodata' });
const a = (...ms: { address: string }[]): string[] => ms.map((m) => `AAAA ${m.address}`);
const inst = (m: { id: string; address: string; region: string }): string => `instance=${m.id},app=svc,ip=${m.address},region=${m.region}`;

const cases: Case[] = [
  // health: the critical machine leaves the app's names…
  ok('svc.internal', AAAA, a(OK, NONE)),
  ok('global.svc.internal', AAAA, a(OK, NONE)),
  nx('ams.svc.internal', AAAA),
  ok('iad.svc.internal', AAAA, a(OK)),
  ok('top3.nearest.of.svc.internal', AAAA, a(OK, NONE), { region: 'iad' }),
  ok('vms.svc.internal', TXT, [`TXT ${OK.id} iad,${NONE.id} syd`]),
  ok('regions.svc.internal', TXT, ['TXT iad,syd']),
  nx('replica.role.kv._metadata.svc.internal', AAAA),
  ok('primary.role.kv._metadata.svc.internal', AAAA, a(OK)),
  ok('app.process.svc.internal', AAAA, a(OK, NONE)),
  // …but the all. forms keep it, and its own vm. name still answers
  ok('all.vms.svc.internal', TXT, [`TXT ${OK.id} iad,${BAD.id} ams,${NONE.id} syd,${OFF.id} syd`]),
  ok('all.regions.svc.internal', TXT, ['TXT ams,iad,syd']),
  ok(`${BAD.id}.vm.svc.internal`, AAAA, a(BAD)),
  ok(reverseName(BAD.address)!, QTYPE.PTR, [`PTR ${BAD.id}.vm.svc.internal`]),
  // an app whose every machine fails answers NODATA (as if none were started); the all. forms still list it
  nodata('dead.internal', AAAA),
  nodata('global.dead.internal', AAAA),
  nodata('vms.dead.internal', TXT),
  ok('all.vms.dead.internal', TXT, [`TXT ${DEAD.id} iad`]),
  nx('_http._tcp.dead.internal', SRV),
  nx('primary.lease.dead.internal', AAAA),
  // SRV: started, healthy machines declaring the port; targets' AAAA in the additional section
  ok('_http._tcp.svc.internal', SRV, [`SRV 10 10 8080 ${OK.id}.vm.svc.internal`], { additional: a(OK) }),
  ok('_HTTP._TCP.svc.internal.', SRV, [`SRV 10 10 8080 ${OK.id}.vm.svc.internal`], { additional: a(OK) }),
  ok('_http._tcp.iad.svc.internal', SRV, [`SRV 10 10 8080 ${OK.id}.vm.svc.internal`]),
  nx('_http._tcp.ams.svc.internal', SRV), // only the critical one is there
  nx('_http._tcp.syd.svc.internal', SRV), // the stopped one does not count
  ok('_pg._tcp.svc.internal', SRV, [`SRV 10 10 5432 ${NONE.id}.vm.svc.internal`], { additional: a(NONE) }),
  ok('_dns._udp.svc.internal', SRV, [`SRV 10 10 53 ${OK.id}.vm.svc.internal`]),
  nx('_dns._tcp.svc.internal', SRV),
  nx('_nope._tcp.svc.internal', SRV),
  nodata('_http._tcp.svc.internal', AAAA),
  ok('_http._tcp.svc.internal', ANY, [`SRV 10 10 8080 ${OK.id}.vm.svc.internal`]),
  nodata('_tcp.svc.internal', SRV),
  nx('_sctp.svc.internal', SRV),
  nx('_http._sctp.svc.internal', SRV),
  nx('x._http._tcp.svc.internal', SRV),
  nx('_http._tcp.svc2.internal', SRV),
  // leases: the holder while started and healthy
  ok('primary.lease.svc.internal', AAAA, a(OK)),
  ok('PRIMARY.lease.svc.internal.', AAAA, a(OK)),
  nodata('primary.lease.svc.internal', TXT),
  nx('other.lease.svc.internal', AAAA),
  nodata('lease.svc.internal', AAAA),
  nx('x.primary.lease.svc.internal', AAAA),
];

describe('dns lookup: health, SRV and leases', () => {
  const idx = index();
  for (const c of cases) {
    it(`${c.qname} ${Object.entries(QTYPE).find(([, v]) => v === c.qtype)?.[0]} → ${c.kind}`, () => {
      const res = lookup(idx, c.qname, c.qtype, NET_ACME, c.region ?? null);
      assert.equal(res.kind, c.kind);
      if (res.kind === 'answer') {
        assert.deepEqual(res.answers.map(show), c.answer);
        if (c.additional) assert.deepEqual((res.additional ?? []).map(show), c.additional);
      }
      if (res.kind === 'nodata' || res.kind === 'nxdomain')
        assert.deepEqual(
          res.authority.map((rr) => (rr.type === QTYPE.SOA ? `SOA ${rr.name} ${rr.serial}` : '?')),
          [SOA_INT],
        );
    });
  }

  it('_instances leaves the critical machine out, all._instances keeps it', () => {
    const live = lookup(idx, '_instances.internal', TXT, NET_ACME);
    const all = lookup(idx, 'all._instances.internal', TXT, NET_ACME);
    assert.ok(live.kind === 'answer' && all.kind === 'answer');
    const items = (r: typeof live): string[] => (r.kind === 'answer' && r.answers[0]!.type === TXT ? [...r.answers[0]!.items] : []);
    assert.ok(items(live).includes(inst(OK)) && !items(live).includes(inst(BAD)));
    assert.ok(items(all).includes(inst(BAD)));
  });
});
