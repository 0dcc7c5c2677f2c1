// Non-forced passes apply only the peers that changed since the last
// converged pass (src/wg/diff.ts diffDesiredPeers), without `wg show`: a
// table of single changes, the fallbacks to a device diff, and a property
// (fast-check) that the device ends where a full diff would leave it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apply, freshMemory, setupDevice, type ApplyMemory, type DeviceWant } from '../../src/agent/apply.js';
import type { DesiredHost } from '../../src/agent/desired.js';
import { silentLogger } from '../../src/log.js';
import { diffDesiredPeers, normalizeEndpoint, type DesiredPeer } from '../../src/wg/diff.js';
import { sortCidrs } from '../../src/wg/dump.js';
import { FakeHost } from '../../testkit/fake-host.js';

const key = (c: string): string => `${c.repeat(43)}=`;
const peer = (k: string, o: Partial<DesiredPeer> = {}): DesiredPeer => ({
  publicKey: key(k),
  endpoint: '198.18.0.1:51820',
  allowedIps: ['fdaa:0:5:0:2::/80'],
  keepalive: 0,
  ...o,
});
const device: DeviceWant = { iface: 'sixpn0', privateKey: key('p'), listenPort: 51820, mtu: 1280 };
const desired = (peers: DesiredPeer[]): DesiredHost => ({
  peers,
  owners: new Map(),
  attachments: [],
  addresses: ['fdaa:0:0:0:1::/128'],
  routes: ['fdaa::/16'],
  nft: {
    table: 'sixpn_sixpn0',
    wgIface: 'sixpn0',
    wgPort: 51820,
    prefix: 'fdaa::/16',
    networks: [],
    attachments: [],
    redirects: [],
    gateway: false,
    outsideFilter: false,
    openPorts: [],
  },
});

describe('agent: peers applied per change', () => {
  const B = peer('B');
  const C = peer('C');
  const prev = new Map([B, C].map((p) => [p.publicKey, p]));
  const cases: { name: string; next: DesiredPeer[]; want: ReturnType<typeof diffDesiredPeers> }[] = [
    { name: 'the same peers: nothing', next: [B, C], want: { changes: [], touched: [], removed: [] } },
    {
      name: 'a peer gains a /80',
      next: [B, { ...C, allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'] }],
      want: {
        changes: [{ kind: 'update', publicKey: key('C'), allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'] }],
        touched: [{ ...C, allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'] }],
        removed: [],
      },
    },
    { name: 'a new object, same peer: touched, no change', next: [B, { ...C }], want: { changes: [], touched: [{ ...C }], removed: [] } },
    {
      name: 'a peer added (endpoint made canonical) and one removed, removes first',
      next: [B, peer('D', { endpoint: '[2001:DB8::1]:51820' })],
      want: {
        changes: [
          { kind: 'remove', publicKey: key('C') },
          { kind: 'add', peer: { publicKey: key('D'), endpoint: '[2001:db8::1]:51820', allowedIps: ['fdaa:0:5:0:2::/80'], keepalive: 0 } },
        ],
        touched: [peer('D', { endpoint: '[2001:DB8::1]:51820' })],
        removed: [key('C')],
      },
    },
    { name: 'an endpoint moved: the device must be read (roaming grace)', next: [B, { ...C, endpoint: '198.18.0.9:51820' }], want: null },
    { name: 'a new peer at a DNS name: resolved by the full path', next: [B, C, peer('D', { endpoint: 'h.example:51820' })], want: null },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(diffDesiredPeers(prev, c.next), c.want);
    });

  it("the planner's delta (only the replaced peers, partial): the same changes, without a walk of the others", () => {
    const C2 = { ...C, allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'] };
    assert.deepEqual(diffDesiredPeers(prev, [C2], { partial: true }), diffDesiredPeers(prev, [B, C2]));
    // Not partial, the same one-peer list would remove B.
    assert.deepEqual(diffDesiredPeers(prev, [C2])!.removed, [key('B')]);
    assert.deepEqual(diffDesiredPeers(prev, [{ ...C, endpoint: '198.18.0.9:51820' }], { partial: true }), null);
  });

  it('apply takes the delta only when the device was converged to the version it starts from', async () => {
    const host = new FakeHost();
    const memory = freshMemory();
    await setupDevice(host, device, memory);
    memory.kickPending = false;
    const v1: DesiredHost = { ...desired([B, C]), peersVersion: 1 };
    await apply(v1, host, { device, memory, force: false, log: silentLogger });
    assert.equal(memory.peersKey, 'v1');
    const C2 = { ...C, allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'] };
    // A delta from version 1: applied as it is (B is not even in the touched list).
    const r2 = await apply({ ...desired([B, C2]), peersVersion: 2, peerDelta: { since: 1, touched: [C2] } }, host, {
      device,
      memory,
      force: false,
      log: silentLogger,
    });
    assert.deepEqual(r2.peers, { added: [], removed: [], changed: [key('C')] });
    assert.deepEqual(host.peers().find((p) => p.publicKey === key('C'))!.allowedIps, sortCidrs(C2.allowedIps));
    // A delta from a version the device was not converged to: every peer is compared.
    const D = peer('D', { allowedIps: ['fdaa:0:9:0:2::/80'] });
    const r4 = await apply({ ...desired([B, C2, D]), peersVersion: 4, peerDelta: { since: 3, touched: [] } }, host, {
      device,
      memory,
      force: false,
      log: silentLogger,
    });
    assert.deepEqual(r4.peers.added, [key('D')]);
    assert.equal(memory.peersKey, 'v4');
  });

  async function converged(peers: DesiredPeer[]): Promise<{ host: FakeHost; memory: ApplyMemory }> {
    const host = new FakeHost();
    const memory = freshMemory();
    await host.wg.ensure('sixpn0'); // adopted: no kick
    await setupDevice(host, device, memory);
    const r = await apply(desired(peers), host, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(r.failed, []);
    return { host, memory };
  }

  it('a non-forced pass after a change applies that peer alone, without `wg show`; a forced one reads the device', async () => {
    const { host, memory } = await converged([B, C]);
    const calls = host.calls.length;
    const r = await apply(desired([B, { ...C, allowedIps: ['fdaa:0:7:0:2::/80'] }]), host, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(r.peers, { added: [], removed: [], changed: [key('C')] });
    assert.deepEqual(
      host.calls.slice(calls).filter((c) => c.startsWith('wg.')),
      ['wg.applyPeers add=0 update=1 remove=0'],
    );
    assert.deepEqual(host.device!.peers.get(key('C'))!.allowedIps, ['fdaa:0:7:0:2::/80']);
    const before = host.count('wg.show');
    await apply(desired([B, { ...C, allowedIps: ['fdaa:0:7:0:2::/80'] }]), host, { device, memory, force: true, log: silentLogger });
    assert.equal(host.count('wg.show'), before + 1);
  });

  it('a peer the device refuses is retried by a device diff (nothing remembered)', async () => {
    const { host, memory } = await converged([B]);
    host.refused.add(key('C'));
    const r = await apply(desired([B, C]), host, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(
      r.failed.map((f) => f.step),
      ['wireguard'],
    );
    assert.equal(memory.peers, null);
    assert.equal(memory.peersKey, null);
    host.refused.clear();
    const shows = host.count('wg.show');
    const again = await apply(desired([B, C]), host, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(again.failed, []);
    assert.equal(host.count('wg.show'), shows + 1, 'a device diff');
    assert.deepEqual([...host.device!.peers.keys()].sort(), [key('B'), key('C')]);
  });

  it('property: after any sequence of peer lists, the device holds exactly the desired peers', async () => {
    const keys = ['B', 'C', 'D', 'E'];
    const nets = ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80', 'fdaa:0:9:0:3::/80'];
    const peerArb = fc.record({
      k: fc.constantFrom(...keys),
      ips: fc.subarray(nets),
      ep: fc.constantFrom('198.18.0.1:51820', '198.18.0.2:51820', '[2001:DB8::1]:51820'),
      keep: fc.constantFrom(0, 0, 25),
    });
    // Each step keeps some peers of the last list as they are (the same objects, as the planner does).
    const stepArb = fc.record({
      keep: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fresh: fc.array(peerArb, { maxLength: 4 }),
      force: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (steps) => {
        const { host, memory } = await converged([]);
        let last: DesiredPeer[] = [];
        for (const s of steps) {
          const next = new Map<string, DesiredPeer>();
          last.forEach((p, i) => s.keep[i] && next.set(p.publicKey, p));
          for (const f of s.fresh) next.set(key(f.k), { publicKey: key(f.k), endpoint: f.ep, allowedIps: f.ips, keepalive: f.keep });
          last = [...next.values()];
          const r = await apply(desired(last), host, { device, memory, force: s.force, log: silentLogger });
          assert.deepEqual(r.failed, []);
          const want = last.map((p) => ({ k: p.publicKey, ips: sortCidrs(p.allowedIps), ep: normalizeEndpoint(p.endpoint!).text, keep: p.keepalive }));
          const have = host.peers().map((p) => ({ k: p.publicKey, ips: p.allowedIps, ep: p.endpoint, keep: p.keepalive }));
          const byK = (a: { k: string }, b: { k: string }): number => (a.k < b.k ? -1 : 1);
          assert.deepEqual(have.sort(byK), want.sort(byK));
        }
      }),
      { numRuns: 200 },
    );
  });
});
