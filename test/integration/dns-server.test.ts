// The DNS server on real sockets (port 0, loopback), queried by real clients:
// dig over UDP and TCP with and without EDNS, and Node's dns.promises.Resolver.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { QTYPE, reverseName } from '../../src/dns/names.js';
import type { Replica } from '../../src/feed/replica.js';
import { EXT, fixtureReplica, HOST_IAD, LAPTOP, machine, NET_ACME, WEB_AMS, WEB_IAD, WEB_SYD } from '../../testkit/dns-fixture.js';
import { buildQuery, decode, dig, digHeader, digShort, tcpPipeline, udpExchange } from '../../testkit/dns-packets.js';

const WEB = [WEB_AMS, WEB_SYD, EXT, WEB_IAD].map((m) => m.address).sort();

describe('dns server (sockets)', () => {
  let replica: Replica;
  let server: DnsServer;
  let port: number;
  let port6: number;

  before(async () => {
    replica = fixtureReplica();
    // 40 started machines in `big`: its AAAA answer needs more than 512 bytes
    const state = replica.toState();
    state.apps.push({ name: 'big', org: 'acme', network_id: NET_ACME, created_at: '' });
    for (let i = 0; i < 40; i++) state.machines.push(machine(`b16a${String(i).padStart(4, '0')}000000`, 'big', NET_ACME, HOST_IAD, 'started'));
    replica.applySnapshot(100, state);
    server = await startDnsServer({
      replica,
      listen: [
        { host: '127.0.0.1', port: 0 },
        { host: '::1', port: 0 },
      ],
      loopbackNetworkId: NET_ACME,
      loopbackRegion: 'iad',
    });
    port = server.addresses[0]!.port;
    port6 = server.addresses[1]!.port;
  });
  after(() => server.close());

  it('listens on UDP and TCP, IPv4 and IPv6, same port per address', () => {
    assert.equal(server.addresses.length, 2);
    assert.ok(port > 0 && port6 > 0);
  });

  it('dig: web.internal AAAA, authoritative, over IPv4 and IPv6', async () => {
    const out = await dig('127.0.0.1', port, 'web.internal', 'AAAA');
    const h = digHeader(out);
    assert.equal(h.status, 'NOERROR');
    assert.ok(h.flags.includes('aa'));
    assert.equal(h.answer, 4);
    assert.deepEqual(await digShort('127.0.0.1', port, 'web.internal', 'AAAA'), WEB);
    assert.deepEqual(await digShort('::1', port6, 'web.internal', 'AAAA'), WEB);
  });

  it('dig: vms TXT, _apps TXT, PTR', async () => {
    assert.deepEqual(await digShort('127.0.0.1', port, 'vms.web.internal', 'TXT'), ['"a1b2c3d4000002 ams,d00dfeed000004 syd,ext1 ord,f066b83b000001 iad"']);
    assert.deepEqual(await digShort('127.0.0.1', port, '_apps.internal', 'TXT'), ['"big,db,empty,web"']);
    assert.deepEqual(await digShort('127.0.0.1', port, '-x', WEB_IAD.address), [`${WEB_IAD.id}.vm.web.internal.`]);
  });

  it('dig: NXDOMAIN and NODATA carry the SOA', async () => {
    for (const [name, type, status] of [
      ['nope.internal', 'AAAA', 'NXDOMAIN'],
      ['web.internal', 'A', 'NOERROR'],
    ] as const) {
      const out = await dig('127.0.0.1', port, name, type);
      const h = digHeader(out);
      assert.equal(h.status, status);
      assert.equal(h.answer, 0);
      assert.equal(h.authority, 1);
      assert.match(out, /AUTHORITY SECTION:\ninternal\.\s+5\s+IN\s+SOA\s+_ns\.internal\. hostmaster\.internal\. 100 /);
    }
  });

  it('dig: echoes the question case', async () => {
    const out = await dig('127.0.0.1', port, 'WeB.InTeRnAl', 'AAAA', '+nocomments');
    assert.match(out, /^;WeB\.InTeRnAl\.\s+IN\s+AAAA$/m);
  });

  it('dig +tcp, +noedns, +bufsize: full answer over TCP, TC over small UDP', async () => {
    const tcp = digHeader(await dig('127.0.0.1', port, '+tcp', 'big.internal', 'AAAA'));
    assert.equal(tcp.answer, 40);
    assert.ok(!tcp.flags.includes('tc'));
    const noedns = await dig('127.0.0.1', port, '+noedns', '+ignore', 'big.internal', 'AAAA');
    assert.ok(digHeader(noedns).flags.includes('tc'));
    assert.doesNotMatch(noedns, /OPT PSEUDOSECTION/);
    const small = await dig('127.0.0.1', port, '+bufsize=512', '+ignore', 'big.internal', 'AAAA');
    assert.ok(digHeader(small).flags.includes('tc'));
    assert.match(small, /OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232/);
    const large = digHeader(await dig('127.0.0.1', port, '+bufsize=1232', 'big.internal', 'AAAA'));
    assert.ok(!large.flags.includes('tc'));
    assert.equal(large.answer, 40);
    // without +ignore dig retries over TCP on TC, as a resolver would
    assert.equal((await digShort('127.0.0.1', port, '+noedns', 'big.internal', 'AAAA')).length, 40);
  });

  it('rotates multi-address answers from query to query', async () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const res = decode((await udpExchange('127.0.0.1', port, buildQuery('web.internal', QTYPE.AAAA, { id: i })))!);
      assert.deepEqual(res.answers.map((a) => a.data).sort(), WEB);
      firsts.add(res.answers[0]!.data as string);
    }
    assert.equal(firsts.size, 4);
  });

  it('splits long TXT values into 255-byte strings (dig shows several)', async () => {
    const out = (await dig('127.0.0.1', port, '+short', '+tcp', '_instances.internal', 'TXT')).trim();
    const strings = [...out.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(strings.length > 1);
    assert.ok(strings.every((s) => s.length <= 255));
  });

  it('Node dns.promises.Resolver resolves through it', async () => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    assert.deepEqual((await r.resolve6('web.internal')).sort(), WEB);
    assert.deepEqual(await r.resolve6('iad.web.internal'), [WEB_IAD.address]);
    assert.deepEqual(await r.resolve6('laptop._peer.internal'), [LAPTOP.address]);
    assert.deepEqual(await r.resolveTxt('regions.web.internal'), [['ams,iad,ord,syd']]);
    assert.deepEqual(await r.reverse(WEB_IAD.address), [`${WEB_IAD.id}.vm.web.internal`]);
    await assert.rejects(r.resolve6('nope.internal'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('web.internal'), { code: 'ENODATA' });
    const r6 = new Resolver({ timeout: 2000, tries: 1 });
    r6.setServers([`[::1]:${port6}`]);
    assert.deepEqual((await r6.resolve6('global.web.internal')).sort(), WEB);
  });

  it('pipelines several queries on one TCP connection', async () => {
    const msgs = [
      buildQuery('web.internal', QTYPE.AAAA, { id: 1 }),
      buildQuery(reverseName(WEB_IAD.address)!, QTYPE.PTR, { id: 2 }),
      buildQuery('nope.internal', QTYPE.AAAA, { id: 3 }),
    ];
    const res = (await tcpPipeline('127.0.0.1', port, msgs)).map(decode).sort((a, b) => a.id - b.id);
    assert.deepEqual(
      res.map((r) => r.id),
      [1, 2, 3],
    );
    assert.equal(res[0]!.answers.length, 4);
    assert.equal(res[1]!.answers[0]!.data, `${WEB_IAD.id}.vm.web.internal`);
    assert.equal(res[2]!.rcode, 3);
  });

  it('refuses other names with no upstream configured', async () => {
    assert.equal(digHeader(await dig('127.0.0.1', port, 'example.com', 'A')).status, 'REFUSED');
  });

  it('follows replica changes', async () => {
    replica.applyChange({ rev: 101, at: '', ops: [{ entity: 'machine', op: 'upsert', data: { ...WEB_AMS, state: 'stopped' } }] });
    assert.deepEqual(
      await digShort('127.0.0.1', port, 'web.internal', 'AAAA'),
      WEB.filter((a) => a !== WEB_AMS.address),
    );
    replica.applyChange({ rev: 102, at: '', ops: [{ entity: 'machine', op: 'upsert', data: { ...WEB_AMS, state: 'started' } }] });
    assert.deepEqual(await digShort('127.0.0.1', port, 'web.internal', 'AAAA'), WEB);
  });

  it('rejects when the address is taken (UDP or TCP)', async () => {
    await assert.rejects(startDnsServer({ replica, listen: [{ host: '127.0.0.1', port }] }), { code: 'EADDRINUSE' });
    await assert.rejects(startDnsServer({ replica, listen: [{ host: '192.0.2.123', port: 0 }] }), { code: 'EADDRNOTAVAIL' });
  });

  it('answers SERVFAIL until the first snapshot, from loopback when allowed', async () => {
    const { Replica: R } = await import('../../src/feed/replica.js');
    const empty = new R();
    const s = await startDnsServer({ replica: empty, listen: [{ host: '127.0.0.1', port: 0 }], loopbackNetworkId: NET_ACME });
    try {
      assert.equal(digHeader(await dig('127.0.0.1', s.addresses[0]!.port, 'web.internal', 'AAAA')).status, 'SERVFAIL');
      empty.applySnapshot(1, fixtureReplica().toState());
      assert.equal((await digShort('127.0.0.1', s.addresses[0]!.port, 'web.internal', 'AAAA')).length, 4);
    } finally {
      await s.close();
    }
  });

  it('refuses loopback without the `up` rule', async () => {
    const s = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }] });
    try {
      assert.equal(digHeader(await dig('127.0.0.1', s.addresses[0]!.port, 'web.internal', 'AAAA')).status, 'REFUSED');
    } finally {
      await s.close();
    }
  });
});
