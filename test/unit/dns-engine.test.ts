// The engine without sockets: packets in, packets out. Protocol rules (AA,
// case echo, SOA on negative answers, TXT splitting, truncation, OPT echo,
// rotation, NOTIMP/FORMERR/BADVERS/REFUSED/SERVFAIL) and the answer cache.
import assert from 'node:assert/strict';
import { DnsEngine } from '../../src/dns/engine.js';
import { DnsIndexer } from '../../src/dns/indexer.js';
import { QTYPE, RCODE } from '../../src/dns/names.js';
import { QuerierResolver } from '../../src/dns/querier.js';
import { Replica } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import { API_1, fixtureReplica, HOST_AMS, HOST_IAD, machine, NET_ACME, NET_GLOBEX, querierAddress, WEB_AMS, WEB_IAD } from '../../testkit/dns-fixture.js';
import { buildQuery, COUNT_BOMB, decode, type Decoded, type QueryOpts } from '../../testkit/dns-packets.js';

const ACME_SRC = querierAddress(NET_ACME, HOST_IAD);
const GLOBEX_SRC = querierAddress(NET_GLOBEX, HOST_AMS);

function engineFor(replica: Replica, loopbackNetworkId?: number): DnsEngine {
  const indexer = new DnsIndexer(replica);
  return new DnsEngine({
    indexer,
    querier: new QuerierResolver({ networkId: loopbackNetworkId }),
    forwarder: null,
    ttl: 5,
    maxUdpSize: 1232,
    logger: silentLogger,
  });
}

async function ask(e: DnsEngine, name: string, type: number, o: QueryOpts & { src?: string; tcp?: boolean } = {}): Promise<Decoded> {
  const out = await e.handle(buildQuery(name, type, o), o.src ?? ACME_SRC, o.tcp ?? false);
  assert.ok(out, 'no answer');
  return decode(out);
}

describe('dns engine', () => {
  let replica: Replica;
  let e: DnsEngine;
  beforeEach(() => {
    replica = fixtureReplica();
    e = engineFor(replica);
  });

  it('answers authoritatively, echoing ID, RD, CD and the question case', async () => {
    const r = await ask(e, 'WEB.internal', QTYPE.AAAA, { id: 4242, cd: true });
    assert.equal(r.id, 4242);
    assert.ok(r.qr && r.aa && r.rd && r.cd && !r.tc && !r.ra);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(r.question, { name: 'WEB.internal', type: QTYPE.AAAA, class: 1 });
    assert.equal(r.answers.length, 4);
    for (const a of r.answers) assert.equal(a.name, 'WEB.internal');
    assert.ok(r.answers.every((a) => a.ttl === 5));
    // same name, other case: served from the cache with this query's case and ID
    const again = await ask(e, 'wEb.InTeRnAl', QTYPE.AAAA, { id: 7, rd: false });
    assert.equal(again.id, 7);
    assert.ok(!again.rd);
    assert.equal(again.question!.name, 'wEb.InTeRnAl');
    assert.equal(again.answers[0]!.name, 'wEb.InTeRnAl');
    assert.ok(e.cache.hits >= 1);
  });

  it('puts the SOA in the authority section of NXDOMAIN and NODATA', async () => {
    const nx = await ask(e, 'nope.internal', QTYPE.AAAA);
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.ok(nx.aa);
    assert.deepEqual(nx.answers, []);
    assert.equal(nx.authority.length, 1);
    assert.equal(nx.authority[0]!.type, QTYPE.SOA);
    assert.equal(nx.authority[0]!.name, 'internal');
    assert.equal(nx.authority[0]!.data, '_ns.internal hostmaster.internal 100 3600 600 86400 5');
    const nodata = await ask(e, 'web.internal', QTYPE.A);
    assert.equal(nodata.rcode, RCODE.NOERROR);
    assert.deepEqual(nodata.answers, []);
    assert.equal(nodata.authority[0]!.type, QTYPE.SOA);
  });

  it('rotates multi-address answers from query to query', async () => {
    const firsts = new Set<string>();
    let set: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await ask(e, 'web.internal', QTYPE.AAAA);
      firsts.add(r.answers[0]!.data as string);
      const s = r.answers
        .map((a) => a.data)
        .sort()
        .join(' ');
      assert.ok(set === null || set === s, 'the set never changes');
      set = s;
    }
    assert.equal(firsts.size, 4);
  });

  it('keeps nearest answers in distance order (no rotation)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await ask(e, 'top2.nearest.of.web.internal', QTYPE.AAAA, { src: querierAddress(NET_ACME, HOST_AMS) });
      assert.equal(r.answers[0]!.data, WEB_AMS.address);
    }
    const fromIad = await ask(e, 'top1.nearest.of.web.internal', QTYPE.AAAA);
    assert.equal(fromIad.answers[0]!.data, WEB_IAD.address);
  });

  it('splits TXT values over 255 bytes into several strings', async () => {
    const r = await ask(e, '_instances.internal', QTYPE.TXT, { tcp: true });
    const strings = r.answers[0]!.data as string[];
    assert.ok(strings.length >= 2);
    assert.ok(strings.every((s) => s.length <= 255));
    assert.ok(strings.slice(0, -1).every((s) => s.length === 255));
    assert.ok(strings.join('').startsWith('instance=db000001aaaaaa,app=db,'));
  });

  describe('size limits', () => {
    beforeEach(() => {
      // 30 started machines: 30 × 28 bytes of answers do not fit in 512
      const state = replica.toState();
      for (let i = 0; i < 30; i++) state.machines.push(machine(`b16a${String(i).padStart(4, '0')}000000`, 'big', NET_ACME, HOST_IAD, 'started'));
      state.apps.push({ name: 'big', org: 'acme', network_id: NET_ACME, created_at: '' });
      replica.applySnapshot(101, state);
    });

    it('sets TC on UDP without EDNS when the answer passes 512 bytes', async () => {
      const r = await ask(e, 'big.internal', QTYPE.AAAA);
      assert.ok(r.tc);
      assert.equal(r.answers.length, 0);
      assert.equal(r.opt, null);
    });

    it('uses the EDNS size (and echoes an OPT)', async () => {
      const r = await ask(e, 'big.internal', QTYPE.AAAA, { edns: 1232 });
      assert.ok(!r.tc);
      assert.equal(r.answers.length, 30);
      assert.deepEqual(r.opt, { udpSize: 1232, version: 0 });
      const small = await ask(e, 'big.internal', QTYPE.AAAA, { edns: 600 });
      assert.ok(small.tc);
      assert.deepEqual(small.opt, { udpSize: 1232, version: 0 });
    });

    it('serves the full answer over TCP', async () => {
      const r = await ask(e, 'big.internal', QTYPE.AAAA, { tcp: true });
      assert.ok(!r.tc);
      assert.equal(r.answers.length, 30);
    });
  });

  it('scopes answers to the source address network', async () => {
    assert.equal((await ask(e, 'web.internal', QTYPE.AAAA, { src: GLOBEX_SRC })).rcode, RCODE.NXDOMAIN);
    const api = await ask(e, 'api.internal', QTYPE.AAAA, { src: GLOBEX_SRC });
    assert.deepEqual(
      api.answers.map((a) => a.data),
      [API_1.address],
    );
    assert.equal((await ask(e, 'api.internal', QTYPE.AAAA)).rcode, RCODE.NXDOMAIN);
  });

  it('refuses sources in no network, and loopback unless told otherwise', async () => {
    for (const src of ['192.0.2.1', '::ffff:192.0.2.1', '2001:db8::1', 'fdaa:0:63::1', '127.0.0.1', '::1']) {
      assert.equal((await ask(e, 'web.internal', QTYPE.AAAA, { src })).rcode, RCODE.REFUSED, src);
    }
    const up = engineFor(fixtureReplica(), NET_ACME);
    for (const src of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      assert.equal((await ask(up, 'web.internal', QTYPE.AAAA, { src })).answers.length, 4, src);
    }
  });

  it('refuses other names when there is no upstream', async () => {
    const r = await ask(e, 'example.com', QTYPE.A);
    assert.equal(r.rcode, RCODE.REFUSED);
    assert.equal(r.question!.name, 'example.com');
  });

  it('answers SERVFAIL until the first snapshot', async () => {
    const fresh = new Replica();
    const e2 = engineFor(fresh);
    assert.equal((await ask(e2, 'web.internal', QTYPE.AAAA)).rcode, RCODE.SERVFAIL);
    fresh.applySnapshot(5, fixtureReplica().toState());
    assert.equal((await ask(e2, 'web.internal', QTYPE.AAAA)).answers.length, 4);
  });

  it('answers NOTIMP, FORMERR, BADVERS, and REFUSED for other classes', async () => {
    assert.equal((await ask(e, 'web.internal', QTYPE.AAAA, { opcode: 4 })).rcode, RCODE.NOTIMP);
    const bomb = decode((await e.handle(COUNT_BOMB, ACME_SRC, false))!);
    assert.equal(bomb.rcode, RCODE.FORMERR);
    assert.equal(bomb.id, COUNT_BOMB.readUInt16BE(0));
    const bad = await ask(e, 'web.internal', QTYPE.AAAA, { edns: 1232, ednsVersion: 1 });
    assert.equal(bad.rcode, RCODE.BADVERS);
    assert.deepEqual(bad.opt, { udpSize: 1232, version: 0 });
    assert.equal((await ask(e, 'version.bind', QTYPE.TXT, { qclass: 3 })).rcode, RCODE.REFUSED);
  });

  it('answers a query whose OPT carries a short ECS option (dns2 would read past it)', async () => {
    const q = buildQuery('web.internal', QTYPE.AAAA, { edns: 1232 });
    q.writeUInt16BE(4, q.length - 2); // rdlength 4: one option, code 8 (ECS), length 0
    const msg = Buffer.concat([q, Buffer.from([0, 8, 0, 0])]);
    const r = decode((await e.handle(msg, ACME_SRC, false))!);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.answers.length, 4);
  });

  it('stays silent on responses and runts', async () => {
    const resp = buildQuery('web.internal', QTYPE.AAAA);
    resp[2]! |= 0x80;
    assert.equal(await e.handle(resp, ACME_SRC, false), null);
    assert.equal(await e.handle(Buffer.alloc(5), ACME_SRC, false), null);
  });

  it('drops cached answers of the networks a change touches, and only those', async () => {
    await ask(e, 'web.internal', QTYPE.AAAA);
    await ask(e, 'api.internal', QTYPE.AAAA, { src: GLOBEX_SRC });
    const before = e.cache.size;
    assert.ok(before >= 2);
    replica.applyChange({ rev: 101, at: '', ops: [{ entity: 'machine', op: 'upsert', data: { ...WEB_AMS, state: 'stopped' } }] });
    // The index is patched once the records received are in (or on the next read): then the cache drops.
    await new Promise((r) => setImmediate(r));
    assert.equal(e.cache.size, before - 1);
    const r = await ask(e, 'web.internal', QTYPE.AAAA);
    assert.equal(r.answers.length, 3);
    assert.ok(!r.answers.some((a) => a.data === WEB_AMS.address));
    const nx = await ask(e, 'nope.internal', QTYPE.AAAA);
    assert.equal(nx.authority[0]!.data, '_ns.internal hostmaster.internal 101 3600 600 86400 5');
  });
});
