// SRV answers of the real DNS server on loopback, read by dig: the target is
// written in full (RFC 2782: "name compression is not to be used for this
// field"), dig parses the answer and its additional AAAA records, over UDP and
// TCP, from the cache and off it.
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { QTYPE } from '../../src/dns/names.js';
import { fixtureReplica, HOST_AMS, HOST_IAD, machine, NET_ACME } from '../../testkit/dns-fixture.js';
import { buildQuery, dig, digHeader, encodeName, udpExchange } from '../../testkit/dns-packets.js';

const HTTP = [{ name: 'http', port: 8080, protocol: 'tcp' as const }];
const S1 = machine('5e7e0001000001', 'svc', NET_ACME, HOST_IAD, 'started', { ports: HTTP });
const S2 = machine('5e7e0002000002', 'svc', NET_ACME, HOST_AMS, 'started', { ports: HTTP });
const target = (m: { id: string }): string => `${m.id}.vm.svc.internal`;

describe('dns server: SRV targets in full, read by dig', () => {
  let server: DnsServer;
  let port: number;

  before(async () => {
    const replica = fixtureReplica();
    const state = replica.toState();
    state.apps.push({ name: 'svc', org: 'acme', network_id: NET_ACME, created_at: '' });
    state.machines.push(S1, S2);
    replica.applySnapshot(101, state);
    server = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }], loopbackNetworkId: NET_ACME, loopbackRegion: 'iad' });
    port = server.addresses[0]!.port;
  });
  after(() => server.close());

  it('puts each target on the wire label by label, with no compression pointer', async () => {
    for (let i = 0; i < 2; i++) {
      // the first asks off the cache, the second from it
      const buf = await udpExchange('127.0.0.1', port, buildQuery('_http._tcp.svc.internal', QTYPE.SRV, { edns: 1232 }));
      assert.ok(buf);
      for (const m of [S1, S2]) {
        const rdata = Buffer.concat([Buffer.from([0, 10, 0, 10, 0x1f, 0x90]), encodeName(target(m))]);
        assert.ok(buf.includes(rdata), `${target(m)}: SRV RDATA in full (round ${i + 1})`);
      }
    }
  });

  for (const transport of ['+notcp', '+tcp']) {
    it(`dig ${transport} parses the SRV answer and the targets' AAAA`, async () => {
      const out = await dig('127.0.0.1', port, transport, '+norec', '+nocmd', '+nostats', 'SRV', '_http._tcp.svc.internal');
      assert.equal(digHeader(out).status, 'NOERROR');
      assert.doesNotMatch(out, /malformed|WARNING|FORMERR/, out);
      const rows = (title: string): string[][] => {
        const at = out.indexOf(`;; ${title} SECTION:`);
        if (at < 0) return [];
        const lines = out.slice(at).split('\n').slice(1);
        const end = lines.findIndex((l) => !l.trim());
        return lines.slice(0, end < 0 ? undefined : end).map((l) => l.split(/\s+/));
      };
      assert.deepEqual(
        rows('ANSWER')
          .map((f) => [f[0], f[3], ...f.slice(4)])
          .sort(),
        [S1, S2].map((m) => ['_http._tcp.svc.internal.', 'SRV', '10', '10', '8080', `${target(m)}.`]).sort(),
      );
      assert.deepEqual(
        rows('ADDITIONAL')
          .filter((f) => f[3] === 'AAAA')
          .map((f) => [f[0], f[4]])
          .sort(),
        [S1, S2].map((m) => [`${target(m)}.`, m.address]).sort(),
      );
    });
  }
});
