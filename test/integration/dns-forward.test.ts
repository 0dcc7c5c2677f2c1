// Forwarding of names outside `.internal` to an upstream the test starts on
// loopback (a real knotd), never to a public resolver.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { fixtureReplica, NET_ACME } from '../../testkit/dns-fixture.js';
import { dig, digHeader, digShort } from '../../testkit/dns-packets.js';
import { freePort, startKnot, type Knot } from '../../testkit/dns-knot.js';

const BIG = Array.from({ length: 40 }, (_, i) => `big IN TXT "record number ${i} with some padding to make it long"`).join('\n');

describe('dns forwarding', () => {
  let knot: Knot;
  let blackhole: dgram.Socket;
  let holePort: number;
  const servers: DnsServer[] = [];
  const start = async (upstreams: { host: string; port: number }[], loopback = true, forwardTimeoutMs = 1000): Promise<number> => {
    const s = await startDnsServer({
      replica: fixtureReplica(),
      listen: [{ host: '127.0.0.1', port: 0 }],
      upstreams,
      forwardTimeoutMs,
      ...(loopback ? { loopbackNetworkId: NET_ACME } : {}),
    });
    servers.push(s);
    return s.addresses[0]!.port;
  };

  before(async () => {
    knot = await startKnot([{ origin: 'example.test', records: `www IN A 192.0.2.7\nwww IN AAAA 2001:db8::7\ntxt IN TXT "hello"\n${BIG}` }]);
    // an upstream that swallows queries
    blackhole = dgram.createSocket('udp4');
    await new Promise<void>((r) => blackhole.bind(0, '127.0.0.1', () => r()));
    holePort = blackhole.address().port;
  });
  after(async () => {
    for (const s of servers) await s.close();
    blackhole?.close();
    await knot?.stop();
  });

  it('forwards other names to the upstream over UDP and TCP, keeping ID and case', async () => {
    const port = await start([{ host: knot.host, port: knot.port }]);
    assert.deepEqual(await digShort('127.0.0.1', port, 'www.example.test', 'A'), ['192.0.2.7']);
    assert.deepEqual(await digShort('127.0.0.1', port, '+tcp', 'www.example.test', 'AAAA'), ['2001:db8::7']);
    const out = await dig('127.0.0.1', port, 'WwW.ExAmPlE.TeSt', 'A');
    assert.equal(digHeader(out).status, 'NOERROR');
    assert.match(out, /^;WwW\.ExAmPlE\.TeSt\.\s+IN\s+A$/m);
    assert.equal(digHeader(await dig('127.0.0.1', port, 'nope.example.test', 'A')).status, 'NXDOMAIN');
    // .internal stays ours
    assert.equal((await digShort('127.0.0.1', port, 'web.internal', 'AAAA')).length, 4);
    const h = digHeader(await dig('127.0.0.1', port, 'web.internal', 'AAAA'));
    assert.ok(h.flags.includes('aa') && h.flags.includes('ra'));
  });

  it('passes TC through on UDP and gets the full answer over TCP', async () => {
    const port = await start([{ host: knot.host, port: knot.port }]);
    assert.ok(digHeader(await dig('127.0.0.1', port, '+noedns', '+ignore', 'big.example.test', 'TXT')).flags.includes('tc'));
    assert.equal(digHeader(await dig('127.0.0.1', port, '+tcp', 'big.example.test', 'TXT')).answer, 40);
  });

  it('answers SERVFAIL when no upstream answers in time', async () => {
    const deadPort = await freePort();
    const port = await start(
      [
        { host: '127.0.0.1', port: holePort },
        { host: '127.0.0.1', port: deadPort },
      ],
      true,
      400,
    );
    assert.equal(digHeader(await dig('127.0.0.1', port, 'www.example.test', 'A')).status, 'SERVFAIL');
    assert.equal(digHeader(await dig('127.0.0.1', port, '+tcp', 'www.example.test', 'A')).status, 'SERVFAIL');
  });

  it('tries the next upstream when one is silent', async () => {
    const port = await start(
      [
        { host: '127.0.0.1', port: holePort },
        { host: knot.host, port: knot.port },
      ],
      true,
      1000,
    );
    assert.deepEqual(await digShort('127.0.0.1', port, 'txt.example.test', 'TXT'), ['"hello"']);
  });

  it('never forwards for a source in no network (no open resolver)', async () => {
    const port = await start([{ host: knot.host, port: knot.port }], false);
    assert.equal(digHeader(await dig('127.0.0.1', port, 'www.example.test', 'A')).status, 'REFUSED');
  });
});
