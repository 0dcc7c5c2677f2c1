// The agent's planner: pure functions from desired state and what the
// devices report to the actions a pass takes.
import assert from 'node:assert/strict';
import { Planner, planDevice, planKick, planLinkSettings, planMissing, planNft, planPeers, type PlanState } from '../../src/agent/plan.js';
import type { Host } from '../../src/model/types.js';
import type { NftSpec } from '../../src/nft/render.js';
import type { DesiredPeer } from '../../src/wg/diff.js';
import type { WgPeerInfo } from '../../src/wg/dump.js';
import { selfConfig } from '../../testkit/agent-self.js';

const key = (c: string): string => `${c.repeat(43)}=`;
const want = (k: string, o: Partial<DesiredPeer> = {}): DesiredPeer => ({
  publicKey: key(k),
  endpoint: `198.18.0.1:51820`,
  allowedIps: ['fdaa:0:5:0:2::/80'],
  keepalive: 0,
  ...o,
});
const have = (k: string, o: Partial<WgPeerInfo> = {}): WgPeerInfo => ({
  publicKey: key(k),
  presharedKey: null,
  endpoint: '198.18.0.1:51820',
  allowedIps: ['fdaa:0:5:0:2::/80'],
  latestHandshake: 0,
  rxBytes: 0,
  txBytes: 0,
  keepalive: 0,
  ...o,
});
const host = (id: number): Host => ({
  id,
  region: 'ams',
  endpoint: `198.18.0.${10 + id}:51820`,
  public_key: key(String.fromCharCode(64 + id)),
  gateway: false,
  created_at: '',
});
const self = selfConfig();
const spec = (o: Partial<NftSpec> = {}): NftSpec => ({
  table: 'sixpn_sixpn0',
  wgIface: 'sixpn0',
  wgPort: 51820,
  prefix: 'fdaa::/16',
  networks: [],
  attachments: [],
  redirects: [{ port: 53, protocols: ['udp', 'tcp'], toPort: 5354 }],
  gateway: false,
  outsideFilter: true,
  openPorts: [],
  ...o,
});

describe('agent planner', () => {
  describe('peers: who is added, removed, changed', () => {
    const cases: { name: string; want: DesiredPeer[]; have: WgPeerInfo[]; added: string[]; removed: string[]; changed: string[] }[] = [
      { name: 'empty device: all added', want: [want('A'), want('B')], have: [], added: [key('A'), key('B')], removed: [], changed: [] },
      { name: 'converged: nothing', want: [want('A')], have: [have('A')], added: [], removed: [], changed: [] },
      { name: 'stranger removed', want: [want('A')], have: [have('A'), have('Z')], added: [], removed: [key('Z')], changed: [] },
      {
        name: 'allowed IPs changed',
        want: [want('A', { allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:6:0:2::/80'] })],
        have: [have('A')],
        added: [],
        removed: [],
        changed: [key('A')],
      },
      { name: 'keepalive diffed back off after a kick', want: [want('A')], have: [have('A', { keepalive: 25 })], added: [], removed: [], changed: [key('A')] },
      {
        name: 'all three at once',
        want: [want('A'), want('B', { endpoint: '198.18.0.9:51820' })],
        have: [have('B'), have('C')],
        added: [key('A')],
        removed: [key('C')],
        changed: [key('B')],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const p = planPeers(c.want, c.have, 1_000_000);
        assert.deepEqual([p.added, p.removed, p.changed], [c.added, c.removed, c.changed]);
        assert.equal(p.changes.length, c.added.length + c.removed.length + c.changed.length);
      });
    }
  });

  it('kick: a one-off keepalive for peers with an endpoint and none set', () => {
    const k = planKick([want('A'), want('B', { endpoint: null }), want('C', { keepalive: 15 }), want('D')]);
    assert.deepEqual(k, [
      { kind: 'update', publicKey: key('A'), keepalive: 25 },
      { kind: 'update', publicKey: key('D'), keepalive: 25 },
    ]);
  });

  it('device settings: only what differs', () => {
    const w = { privateKey: 'k1', listenPort: 51820 };
    assert.deepEqual(planDevice({ privateKey: 'k1', listenPort: 51820 }, w), {});
    assert.deepEqual(planDevice({ privateKey: null, listenPort: 0 }, w), { privateKey: 'k1', listenPort: 51820 });
    assert.deepEqual(planDevice({ privateKey: 'k1', listenPort: 4000 }, w), { listenPort: 51820 });
  });

  it('link settings: MTU and up, or nothing', () => {
    assert.equal(planLinkSettings(1280, { mtu: 1280, up: true }), null);
    assert.deepEqual(planLinkSettings(1280, { mtu: 1420, up: true }), { mtu: 1280, up: true });
    assert.deepEqual(planLinkSettings(1280, { mtu: 1280, up: false }), { mtu: 1280, up: true });
  });

  it('addresses and routes: what is missing, compared canonically', () => {
    assert.deepEqual(planMissing(['FDAA:0:0:0:1::/128', 'fdaa::/16'], ['fdaa::1:0:0:0/128']), ['fdaa::/16']);
    assert.deepEqual(planMissing(['fdaa::/16'], ['fdaa::/16', 'fe80::/64']), []);
    assert.deepEqual(planMissing([], ['fdaa::/16']), []);
  });

  it('nft: written when the rendering differs from the last write', () => {
    const first = planNft(spec(), null);
    assert.equal(first.write, true);
    assert.deepEqual(planNft(spec(), first.text), { text: first.text, write: false });
    assert.equal(planNft(spec({ networks: ['fdaa:0:5::/48'] }), first.text).write, true);
  });

  it('Planner: the desired state is reused until a replica update', () => {
    let reads = 0;
    const state: PlanState = { hosts: [host(1), host(2)], machines: [], peers: [] };
    const read = (): PlanState => {
      reads++;
      return state;
    };
    const p = new Planner(self);
    const a = p.desired(read);
    assert.equal(p.desired(read), a);
    assert.equal(reads, 1);
    assert.deepEqual(
      a.peers.map((x) => x.publicKey),
      [key('B')],
    );
    state.hosts.push(host(3));
    p.note({ rev: 2, ops: null });
    const b = p.desired(read);
    assert.equal(reads, 2);
    assert.deepEqual(
      b.peers.map((x) => x.publicKey),
      [key('B'), key('C')],
    );
  });
});
