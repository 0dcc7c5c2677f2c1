// The dashboard stream's scope filter: an org token's view holds its org's
// entities and the hosts that carry them, never another org's, and a delete
// goes out only for what the stream has shown.
import assert from 'node:assert/strict';
import { ScopeView } from '../../src/coordinator/ui/scope.js';
import type { App, ChangeOp, Host, Machine, Network, Org, Peer, State } from '../../src/model/types.js';

const at = '2024-01-01T00:00:00.000Z';
const org = (name: string, id: number): Org => ({ name, network_id: id, created_at: at });
const net = (o: string, id: number): Network => ({ id, org: o, name: 'default', created_at: at });
const app = (name: string, o: string, id: number): App => ({ name, org: o, network_id: id, created_at: at });
const host = (id: number, region: string): Host => ({
  id,
  region,
  endpoint: `127.0.0.1:${51820 + id}`,
  public_key: `k${id}`,
  gateway: id === 1,
  created_at: at,
});
const machine = (id: string, a: string, o: string, hostId: number): Machine => ({
  id,
  app: a,
  org: o,
  network_id: 1,
  host_id: hostId,
  region: 'ams',
  address: `fdaa::${id}`,
  state: 'started',
  reason: null,
  group: 'app',
  metadata: {},
  command: null,
  created_at: at,
  updated_at: at,
});
const peer = (name: string, o: string, hostId: number): Peer => ({
  org: o,
  name,
  network_id: 1,
  host_id: hostId,
  region: 'ams',
  index: 1,
  address: `fdaa::p${name}`,
  public_key: 'k',
  app: null,
  created_at: at,
});

function world(): State {
  return {
    regions: [{ code: 'ams', name: 'Amsterdam', latitude: 52, longitude: 4 }],
    orgs: [org('acme', 1), org('rival', 2)],
    networks: [net('acme', 1), net('rival', 2)],
    apps: [app('web', 'acme', 1), app('vault', 'rival', 2)],
    hosts: [host(1, 'ams'), host(2, 'syd'), host(3, 'iad')],
    machines: [machine('aaaaaaaaaaaaa1', 'web', 'acme', 1), machine('bbbbbbbbbbbbb1', 'vault', 'rival', 2)],
    peers: [peer('laptop', 'acme', 1), peer('phone', 'rival', 1)],
  };
}

describe('dashboard scope filter (ScopeView)', () => {
  it('an org snapshot holds its org only, and the hosts carrying its machines and peers', () => {
    const v = new ScopeView({ all: false, org: 'acme' });
    const s = v.snapshot(world());
    assert.deepEqual(
      s.orgs.map((o) => o.name),
      ['acme'],
    );
    assert.deepEqual(
      s.networks.map((n) => n.org),
      ['acme'],
    );
    assert.deepEqual(
      s.apps.map((a) => a.name),
      ['web'],
    );
    assert.deepEqual(
      s.machines.map((m) => m.id),
      ['aaaaaaaaaaaaa1'],
    );
    assert.deepEqual(
      s.peers.map((p) => p.name),
      ['laptop'],
    );
    assert.deepEqual(
      s.hosts.map((h) => h.id),
      [1],
    );
    assert.equal(s.regions.length, 1, 'the region table is public');
    assert.ok(!JSON.stringify(s).includes('rival'));
    assert.deepEqual(v.peerKeys(), ['acme/laptop']);
  });

  it('admin sees everything', () => {
    const v = new ScopeView({ all: true });
    assert.deepEqual(v.snapshot(world()), world());
    const ops: ChangeOp[] = [
      { entity: 'app', op: 'upsert', data: app('x', 'rival', 2) },
      { entity: 'peer', op: 'delete', key: 'rival/phone' },
    ];
    assert.deepEqual(v.change(ops), ops);
  });

  it("changes: another org's upserts and deletes never pass; a host is introduced with the first machine on it", () => {
    const v = new ScopeView({ all: false, org: 'acme' });
    v.snapshot(world());
    const rivalOps: ChangeOp[] = [
      { entity: 'org', op: 'upsert', data: org('rival', 2) },
      { entity: 'app', op: 'upsert', data: app('ledger', 'rival', 2) },
      { entity: 'machine', op: 'upsert', data: machine('bbbbbbbbbbbbb2', 'vault', 'rival', 3) },
      { entity: 'peer', op: 'delete', key: 'rival/phone' },
      { entity: 'host', op: 'upsert', data: { ...host(2, 'syd'), endpoint: '127.0.0.1:9' } },
    ];
    assert.deepEqual(v.change(rivalOps), []);

    const m = machine('aaaaaaaaaaaaa2', 'web', 'acme', 3);
    const out = v.change([{ entity: 'machine', op: 'upsert', data: m }]);
    assert.deepEqual(
      out.map((o) => o.entity),
      ['host', 'machine'],
      'host 3 is shown before the machine on it',
    );
    assert.deepEqual(
      v.change([{ entity: 'machine', op: 'upsert', data: { ...m, state: 'stopped' } }]).map((o) => o.entity),
      ['machine'],
      'only once',
    );
    const moved = { ...host(3, 'iad'), endpoint: '127.0.0.1:7' };
    assert.deepEqual(v.change([{ entity: 'host', op: 'upsert', data: moved }]), [{ entity: 'host', op: 'upsert', data: moved }], 'a shown host is followed');

    assert.deepEqual(v.change([{ entity: 'peer', op: 'delete', key: 'acme/laptop' }]), [{ entity: 'peer', op: 'delete', key: 'acme/laptop' }]);
    assert.deepEqual(v.change([{ entity: 'peer', op: 'delete', key: 'acme/laptop' }]), [], 'a key not shown (any more) is not deleted again');
    assert.deepEqual(v.peerKeys(), []);
  });

  it('a new snapshot resets what was shown', () => {
    const v = new ScopeView({ all: false, org: 'acme' });
    v.snapshot(world());
    v.snapshot({ ...world(), peers: [] });
    assert.deepEqual(v.change([{ entity: 'peer', op: 'delete', key: 'acme/laptop' }]), []);
  });
});
