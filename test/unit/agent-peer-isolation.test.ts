// No single bad peer stalls the mesh: host endpoints that are DNS names are
// resolved by the agent (timeout, cache), and a peer `wg set` refuses is
// applied alone and reported while every other peer is applied. Fake ports
// (testkit/fake-host.ts); the endpoint rule the API checks.
import assert from 'node:assert/strict';
import { apply, freshMemory, setupDevice, type DeviceWant } from '../../src/agent/apply.js';
import { computeDesired, type SelfConfig } from '../../src/agent/desired.js';
import { EndpointResolver, resolvePeers } from '../../src/agent/resolver.js';
import { agentMetrics } from '../../src/agent/metrics.js';
import { StatusBoard } from '../../src/agent/status.js';
import { Replica } from '../../src/feed/replica.js';
import { createRegistry } from '../../src/metrics/index.js';
import { silentLogger } from '../../src/log.js';
import type { Host, Peer, State } from '../../src/model/types.js';
import { parseEndpoint, RULES } from '../../src/validate.js';
import { FakeHost } from '../../testkit/fake-host.js';

const key = (c: string): string => `${c.repeat(43)}=`;
const host = (id: number, endpoint = `198.18.0.${10 + id}:51820`): Host => ({
  id,
  region: 'ams',
  endpoint,
  public_key: key(String.fromCharCode(64 + id)),
  gateway: id === 1,
  created_at: '',
});
const devPeer = (name: string, c: string): Peer =>
  ({
    org: 'acme',
    name,
    region: 'ams',
    address: `fdaa:0:5:0:1:100::${c.charCodeAt(0)}`,
    network_id: 5,
    host_id: 1,
    public_key: key(c),
    app: null,
    created_at: '',
  }) as Peer;
const state = (o: Partial<State> = {}): State => ({ regions: [], orgs: [], networks: [], apps: [], hosts: [host(1), host(2)], machines: [], peers: [], ...o });
const self: SelfConfig = {
  hostId: 1,
  gateway: true,
  iface: 'sixpn0',
  listenPort: 51820,
  mtu: 1280,
  prefix: 0xfdaa,
  dnsPort: 5354,
  outsideFilter: true,
  openPorts: [],
};
const device: DeviceWant = { iface: 'sixpn0', privateKey: key('p'), listenPort: 51820, mtu: 1280 };

/** A lookup that knows a few names; the others fail like getaddrinfo does. */
function zone(names: Record<string, string>, counter = { n: 0 }) {
  return async (h: string): Promise<string> => {
    counter.n++;
    const ip = names[h];
    if (ip) return ip;
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
  };
}

describe('agent: one bad peer never blocks the others', () => {
  it('a host whose endpoint does not resolve: every other peer (and a new developer peer) is applied; the bad one is reported, alone', async () => {
    const fake = new FakeHost();
    fake.resolver = new EndpointResolver({ lookup: zone({ 'h3.example.net': '198.18.0.13' }) });
    const memory = freshMemory();
    await setupDevice(fake, device, memory);
    const s = state({ hosts: [host(1), host(2), host(3, 'h3.example.net:51820'), host(4, 'nope.invalid:51820')], peers: [devPeer('laptop', 'L')] });
    const d = computeDesired(s, self);
    const report = await apply(d, fake, { device, memory, force: false, log: silentLogger });
    const byKey = new Map(fake.peers().map((p) => [p.publicKey, p]));
    assert.equal(byKey.get(key('B'))!.endpoint, '198.18.0.12:51820');
    assert.equal(byKey.get(key('C'))!.endpoint, '198.18.0.13:51820', 'a name that resolves is handed to wg as the address');
    assert.ok(byKey.get(key('L')), 'the developer peer is on the device');
    // The bad host is still a peer (allowed IPs: it can reach us), without an endpoint, and reported.
    assert.equal(byKey.get(key('D'))!.endpoint, null);
    assert.deepEqual(report.peerFailures, [{ publicKey: key('D'), error: 'endpoint nope.invalid:51820: nope.invalid does not resolve (ENOTFOUND)' }]);
    assert.deepEqual(
      report.failed.map((f) => f.step),
      ['wireguard'],
    );
    assert.match(report.failed[0]!.error, /1 peer\(s\) not applied: endpoint nope\.invalid:51820/);
    assert.equal(memory.peersKey, null, 'not remembered as converged: the next pass retries it');
    const status = new StatusBoard();
    const registry = createRegistry();
    agentMetrics(registry, { status, feed: null, replica: new Replica() });
    status.desired = d;
    status.passed({ rev: 1, ms: 1, peerChanges: 0, nftApplied: false, failed: ['wireguard'] }, report);
    assert.deepEqual(
      status.peerFailures.map((f) => f.publicKey),
      [key('D')],
    );
    const text = await registry.metrics();
    assert.match(text, /^sixpn_agent_peer_failures\{kind="host",peer="ams\/4"\} 1$/m);
    assert.doesNotMatch(text, /^sixpn_agent_peer_failures\{[^}]*peer="ams\/[23]"/m);
  });

  it('before: without the agent resolving names, one name `wg` cannot resolve fails the batch; each peer is then applied alone', async () => {
    const fake = new FakeHost();
    const memory = freshMemory();
    await setupDevice(fake, device, memory);
    fake.refused.add(key('D'));
    const d = computeDesired(state({ hosts: [host(1), host(2), host(3), host(4, 'nope.invalid:51820')], peers: [devPeer('laptop', 'L')] }), self);
    const calls = fake.calls.length;
    const report = await apply(d, fake, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(
      fake
        .peers()
        .map((p) => p.publicKey)
        .sort(),
      [key('B'), key('C'), key('L')],
    );
    assert.deepEqual(report.peerFailures, [{ publicKey: key('D'), error: `wg set: peer ${key('D')} refused` }]);
    assert.deepEqual(report.peers.added.sort(), [key('B'), key('C'), key('L')]);
    // One batched call (refused), then one call per peer.
    assert.deepEqual(
      fake.calls.slice(calls).filter((c) => c.startsWith('wg.applyPeers')),
      [
        'wg.applyPeers add=4 update=0 remove=0',
        ...Array(4).fill('wg.applyPeers add=1 update=0 remove=0'),
        // the new device's handshake kick: refused as a batch too, then each alone
        'wg.applyPeers add=0 update=3 remove=0',
        ...Array(3).fill('wg.applyPeers add=0 update=1 remove=0'),
      ],
    );
    // The next pass diffs again: the good peers are there, only the bad one is retried.
    fake.refused.clear();
    const again = await apply(d, fake, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(again.peerFailures, []);
    assert.deepEqual(again.peers.added, [key('D')]);
    assert.deepEqual(again.failed, []);
  });

  it('a wg timeout is not a bad peer: the step fails as a whole (no N more calls to a stuck device)', async () => {
    const fake = new FakeHost();
    const memory = freshMemory();
    await setupDevice(fake, device, memory);
    const apply1 = fake.wg.applyPeers;
    let n = 0;
    fake.wg.applyPeers = async () => {
      n++;
      throw Object.assign(new Error('Command timed out after 10000 milliseconds: wg set sixpn0 …'), { timedOut: true });
    };
    const report = await apply(computeDesired(state({ hosts: [host(1), host(2), host(3)] }), self), fake, { device, memory, force: false, log: silentLogger });
    fake.wg.applyPeers = apply1;
    assert.equal(n, 1);
    assert.deepEqual(
      report.failed.map((f) => f.step),
      ['wireguard'],
    );
    assert.match(report.failed[0]!.error, /timed out/);
  });
});

describe('agent endpoint resolver', () => {
  it('caches answers and failures (one lookup per name per TTL), shares lookups in flight', async () => {
    let now = 0;
    const counter = { n: 0 };
    const r = new EndpointResolver({ lookup: zone({ 'a.example': '192.0.2.1' }, counter), ttlMs: 1000, negativeTtlMs: 500, now: () => now });
    assert.deepEqual(await Promise.all([r.resolve('a.example'), r.resolve('A.example')]), ['192.0.2.1', '192.0.2.1']);
    assert.equal(counter.n, 1);
    await assert.rejects(r.resolve('nope.invalid'), /^Error: nope\.invalid does not resolve \(ENOTFOUND\)$/);
    await assert.rejects(r.resolve('nope.invalid'), /does not resolve/);
    assert.equal(counter.n, 2, 'a failure is remembered');
    now = 600;
    await assert.rejects(r.resolve('nope.invalid'), /does not resolve/);
    assert.equal(counter.n, 3);
    assert.equal(await r.resolve('fdaa::1'), 'fdaa::1', 'literals are not looked up');
    assert.equal(counter.n, 3);
  });

  it('a lookup that hangs fails after the timeout; a name that resolved before keeps its last address', async () => {
    let now = 0;
    let hang = false;
    const r = new EndpointResolver({
      lookup: (h) => (hang ? new Promise<string>(() => undefined) : Promise.resolve(h === 'b.example' ? '2001:db8::b' : '')),
      timeoutMs: 50,
      ttlMs: 10,
      now: () => now,
    });
    hang = true;
    const t0 = Date.now();
    await assert.rejects(r.resolve('slow.example'), /^Error: slow\.example did not resolve within 50 ms$/);
    assert.ok(Date.now() - t0 < 1000);
    hang = false;
    assert.equal(await r.resolve('b.example'), '2001:db8::b');
    now = 100;
    hang = true;
    assert.equal(await r.resolve('b.example'), '2001:db8::b', 'stale beats none');
  });

  it('resolvePeers: a slow name holds the pass up for waitMs at most; the answer, cached, serves the next pass', async () => {
    let release: (ip: string) => void = () => undefined;
    const r = new EndpointResolver({
      lookup: () =>
        new Promise<string>((res) => {
          release = res;
        }),
      timeoutMs: 5000,
    });
    const peers = [{ publicKey: key('A'), endpoint: 'slow.example:51820', allowedIps: [], keepalive: 0 }];
    const t0 = Date.now();
    const first = await resolvePeers(peers, r, 30);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(first.failures, [{ publicKey: key('A'), error: 'endpoint slow.example:51820: slow.example is still resolving' }]);
    assert.equal(first.peers[0]!.endpoint, null);
    release('192.0.2.9');
    await new Promise((res) => setTimeout(res, 10));
    const next = await resolvePeers(peers, r, 30);
    assert.deepEqual(next.failures, []);
    assert.equal(next.peers[0]!.endpoint, '192.0.2.9:51820');
  });

  it('resolvePeers: IPv6 answers bracketed, literals and roaming peers untouched', async () => {
    const r = new EndpointResolver({ lookup: zone({ 'v6.example': '2001:db8::6' }) });
    const { peers, failures } = await resolvePeers(
      [
        { publicKey: key('A'), endpoint: 'v6.example:51820', allowedIps: [], keepalive: 0 },
        { publicKey: key('B'), endpoint: '[2001:DB8::1]:1', allowedIps: [], keepalive: 0 },
        { publicKey: key('C'), endpoint: null, allowedIps: [], keepalive: 0 },
      ],
      r,
    );
    assert.deepEqual(
      peers.map((p) => p.endpoint),
      ['[2001:db8::6]:51820', '[2001:DB8::1]:1', null],
    );
    assert.deepEqual(failures, []);
  });
});

describe('host endpoints the API accepts', () => {
  it('an IP literal with a port, or a DNS name with a port; nothing else', () => {
    for (const ok of ['203.0.113.1:51820', '[2001:db8::1]:51820', 'nope.invalid:51820', 'gw-1.example.com:1', 'host:65535'])
      assert.ok(RULES.endpoint.test(ok), ok);
    for (const bad of [
      '999.1.1.1:51820',
      '1.2.3:51820',
      '[fdaa::zz]:1',
      '[203.0.113.1]:1',
      '-gw.example:1',
      'gw-.example:1',
      'a..b:1',
      `${'a'.repeat(64)}.example:1`,
      'gw.example:0',
      'gw.example:65536',
      'gw.example',
      'gw example:1',
      'gw.example:1\n',
      'fdaa::1:51820',
      ':51820',
    ]) {
      assert.equal(parseEndpoint(bad), null, bad);
    }
  });
});
