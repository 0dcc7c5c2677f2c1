// Bad packets never hurt it: 10,000 random and mutated packets (the count-bomb
// fixture among them) over UDP, a stream of garbage over TCP, every reply
// well-formed, and afterwards a normal query still answers correctly.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { QTYPE } from '../../src/dns/names.js';
import { EXT, fixtureReplica, NET_ACME, rng, WEB_AMS, WEB_IAD, WEB_SYD } from '../../testkit/dns-fixture.js';
import { buildQuery, COUNT_BOMB, decode, digShort, udpExchange } from '../../testkit/dns-packets.js';

const NAMES = [
  'web.internal',
  'WEB.internal',
  'vms.web.internal',
  '_instances.internal',
  'top2.nearest.of.web.internal',
  'nope.internal',
  'internal',
  'f066.vm.web.internal',
  'primary.role.kv._metadata.web.internal',
  'b.8.3.b.6.6.0.f.d.7.0.0.b.7.a.0.1.0.0.0.0.0.0.0.a.a.d.f.ip6.arpa',
  'example.com',
  '',
];
const TYPES = [QTYPE.AAAA, QTYPE.A, QTYPE.TXT, QTYPE.PTR, QTYPE.SOA, QTYPE.NS, QTYPE.ANY, QTYPE.AXFR, 99, 65535];

/** The packets: deterministic, so a failure can be replayed. */
function fuzzPackets(n: number, seed = 7): Buffer[] {
  const r = rng(seed);
  const int = (k: number): number => Math.floor(r() * k);
  const bytes = (k: number): Buffer => Buffer.from(Array.from({ length: k }, () => int(256)));
  const valid = (): Buffer =>
    buildQuery(NAMES[int(NAMES.length)]!, TYPES[int(TYPES.length)]!, {
      id: int(65536),
      rd: r() < 0.5,
      cd: r() < 0.2,
      ...(r() < 0.5 ? { edns: int(65536), ednsVersion: r() < 0.1 ? 1 : 0 } : {}),
      opcode: r() < 0.05 ? int(16) : 0,
      qclass: r() < 0.05 ? int(256) : 1,
    });
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.2) {
      out.push(bytes(int(600)));
      continue;
    }
    if (roll < 0.25) {
      out.push(Buffer.from(COUNT_BOMB));
      continue;
    }
    if (roll < 0.3) {
      // header claiming huge counts over a little body
      const b = Buffer.concat([bytes(12), bytes(int(64))]);
      b[2] = b[2]! & 0x7f;
      for (const at of [4, 6, 8, 10]) b.writeUInt16BE(int(65536), at);
      out.push(b);
      continue;
    }
    if (roll < 0.45) {
      // random names: odd case, odd bytes, many labels
      const labels = Array.from({ length: 1 + int(8) }, () =>
        Buffer.from(Array.from({ length: 1 + int(20) }, () => (r() < 0.8 ? 97 + int(26) - (r() < 0.3 ? 32 : 0) : int(256)))).toString('latin1'),
      );
      out.push(
        buildQuery([...labels, r() < 0.7 ? 'internal' : 'test'].join('.'), TYPES[int(TYPES.length)]!, {
          id: int(65536),
          ...(r() < 0.5 ? { edns: 512 + int(4000) } : {}),
        }),
      );
      continue;
    }
    const b = valid();
    const muts = 1 + int(4);
    let m = b;
    for (let k = 0; k < muts; k++) {
      const kind = int(6);
      if (kind === 0) {
        m = Buffer.from(m);
        m[int(m.length)] = int(256);
      } else if (kind === 1) {
        m = Buffer.from(m);
        const at = int(m.length);
        m[at] = m[at]! ^ (1 << int(8));
      } else if (kind === 2) m = m.subarray(0, int(m.length));
      else if (kind === 3) m = Buffer.concat([m, bytes(1 + int(40))]);
      else if (kind === 4) {
        m = Buffer.from(m);
        if (m.length > 14) {
          m[12 + int(m.length - 13)] = 0xc0;
        }
      } else {
        m = Buffer.from(m);
        if (m.length >= 12) m.writeUInt16BE(int(4), 4 + 2 * int(4));
      }
    }
    out.push(m);
  }
  return out;
}

const WEB = [WEB_AMS, WEB_SYD, EXT, WEB_IAD].map((m) => m.address).sort();

describe('dns fuzz', () => {
  let server: DnsServer;
  let port: number;
  const packets = fuzzPackets(10_000);

  before(async () => {
    server = await startDnsServer({ replica: fixtureReplica(), listen: [{ host: '127.0.0.1', port: 0 }], loopbackNetworkId: NET_ACME, loopbackRegion: 'iad' });
    port = server.addresses[0]!.port;
  });
  after(() => server.close());

  it('includes the count bomb and many shapes', () => {
    assert.ok(packets.filter((p) => p.equals(COUNT_BOMB)).length > 100);
  });

  it('every direct reply is silence or a well-formed response with the query ID', async () => {
    let answered = 0;
    for (const p of packets) {
      const out = await server.engine.handle(p, '127.0.0.1', false);
      if (out === null) continue;
      answered++;
      const d = decode(out); // throws on a malformed response
      assert.ok(d.qr);
      assert.equal(d.id, p.readUInt16BE(0));
      assert.ok(out.length <= 1232);
    }
    assert.ok(answered > packets.length / 2);
  });

  it('survives 10,000 packets over UDP, then answers a normal query correctly', async () => {
    const sock = dgram.createSocket('udp4');
    let replies = 0;
    sock.on('message', (m) => {
      replies++;
      decode(m);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < packets.length; i += 200) {
      await Promise.all(packets.slice(i, i + 200).map((p) => new Promise<void>((r) => sock.send(p, port, '127.0.0.1', () => r()))));
      await new Promise((r) => setImmediate(r));
    }
    const res = await udpExchange('127.0.0.1', port, buildQuery('web.internal', QTYPE.AAAA, { id: 99 }), 5000);
    assert.ok(res, 'no answer after the fuzz');
    const d = decode(res);
    assert.equal(d.id, 99);
    assert.deepEqual(d.answers.map((a) => a.data).sort(), WEB);
    sock.close();
    assert.ok(replies > 0);
    assert.deepEqual(await digShort('127.0.0.1', port, 'web.internal', 'AAAA'), WEB);
  });

  it('survives garbage over TCP (bad lengths, runts, bombs) and still answers over TCP', async () => {
    const streams = [
      Buffer.concat(
        packets.slice(0, 300).map((p) => {
          const l = Buffer.alloc(2);
          l.writeUInt16BE(p.length);
          return Buffer.concat([l, p]);
        }),
      ),
      Buffer.concat([Buffer.from([0, COUNT_BOMB.length]), COUNT_BOMB, Buffer.from([0xff, 0xff]), Buffer.alloc(100)]), // then a frame that never completes
      Buffer.from([0, 1, 0]),
    ];
    await Promise.all(
      streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            const c = net.connect({ host: '127.0.0.1', port });
            c.on('error', () => resolve());
            c.on('connect', () => {
              c.write(s);
              setTimeout(() => {
                c.destroy();
                resolve();
              }, 200);
            });
          }),
      ),
    );
    assert.deepEqual(await digShort('127.0.0.1', port, '+tcp', 'web.internal', 'AAAA'), WEB);
  });
});
