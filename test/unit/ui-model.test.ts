// The page's model of the mesh (src/ui/model.ts) and its text forms: patched
// by stream messages, described for the panel of last changes, and the /48
// computed in the page agrees with the address plan.
import assert from 'node:assert/strict';
import { networkPrefix } from '../../src/addr/plan.js';
import type { Machine, State } from '../../src/model/types.js';
import { ago, bytes, handshakeAge, matches } from '../../src/ui/format.js';
import { applyMessage, emptyMesh, networkPrefix48, regionCounts } from '../../src/ui/model.js';

const at = '2024-01-01T00:00:00.000Z';
const machine = (id: string, state: Machine['state'] = 'created'): Machine => ({
  id,
  app: 'web',
  org: 'acme',
  network_id: 7,
  host_id: 1,
  region: 'ams',
  address: 'fdaa:0:7:0:1::2',
  state,
  reason: null,
  group: 'app',
  metadata: {},
  command: null,
  created_at: at,
  updated_at: at,
});
const state = (machines: Machine[]): State => ({
  regions: [{ code: 'ams', name: 'Amsterdam', latitude: 52, longitude: 4 }],
  orgs: [{ name: 'acme', network_id: 7, created_at: at }],
  networks: [{ id: 7, org: 'acme', name: 'default', created_at: at }],
  apps: [{ name: 'web', org: 'acme', network_id: 7, created_at: at }],
  hosts: [{ id: 1, region: 'ams', endpoint: '127.0.0.1:51820', public_key: 'k', gateway: true, created_at: at }],
  machines,
  peers: [],
});

describe('dashboard page model', () => {
  it('the /48 matches the address plan', () => {
    for (const id of [1, 7, 0xffff, 0x10000, 0x12345678, 0xffffffff, 0xffff0000]) assert.equal(networkPrefix48(id), networkPrefix(id), `network ${id}`);
  });

  it('a machine created, stopped and destroyed is patched in and told in the panel', () => {
    let r = applyMessage(emptyMesh(), { type: 'snapshot', rev: 5, state: state([]), peer_status: {} }, false);
    assert.deepEqual(r.entries, [], 'a first snapshot tells nothing');
    const mesh = r.mesh;
    const ch = (rev: number, m: Machine) => applyMessage(mesh, { type: 'change', rev, at, ops: [{ entity: 'machine', op: 'upsert', data: m }] }, true);
    r = ch(6, machine('aaaaaaaaaaaaa1'));
    assert.equal(r.entries[0]!.text, 'machine aaaaaaaaaaaaa1 (web, ams) created: created');
    assert.equal(r.entries[0]!.org, 'acme');
    r = ch(7, machine('aaaaaaaaaaaaa1', 'stopped'));
    assert.equal(r.entries[0]!.text, 'machine aaaaaaaaaaaaa1 (web, ams) created → stopped');
    assert.equal(mesh.machines.get('aaaaaaaaaaaaa1')!.state, 'stopped');
    assert.deepEqual(ch(8, machine('aaaaaaaaaaaaa1', 'stopped')).entries, [], 'nothing worth telling');
    r = ch(9, machine('aaaaaaaaaaaaa1', 'destroyed'));
    assert.equal(r.entries[0]!.text, 'machine aaaaaaaaaaaaa1 (web, ams) stopped → destroyed');
    assert.equal(mesh.machines.size, 0, 'a destroyed machine leaves the table');
    assert.equal(mesh.rev, 9);
  });

  it('a snapshot after a reconnect tells what changed meanwhile', () => {
    const first = applyMessage(
      emptyMesh(),
      { type: 'snapshot', rev: 5, state: state([machine('aaaaaaaaaaaaa1', 'started'), machine('aaaaaaaaaaaaa2')]), peer_status: {} },
      false,
    ).mesh;
    const r = applyMessage(
      first,
      { type: 'snapshot', rev: 9, state: state([machine('aaaaaaaaaaaaa1', 'stopped'), machine('aaaaaaaaaaaaa3')]), peer_status: {} },
      true,
    );
    assert.deepEqual(r.entries.map((e) => e.text).sort(), [
      'machine aaaaaaaaaaaaa1 (web, ams) started → stopped (while disconnected)',
      'machine aaaaaaaaaaaaa2 (web, ams) destroyed (while disconnected)',
      'machine aaaaaaaaaaaaa3 (web, ams) created: created (while disconnected)',
    ]);
    assert.deepEqual([...r.mesh.machines.keys()], ['aaaaaaaaaaaaa1', 'aaaaaaaaaaaaa3']);
  });

  it('peer reports merge; region counts follow hosts and machines', () => {
    const mesh = applyMessage(
      emptyMesh(),
      { type: 'snapshot', rev: 1, state: state([machine('aaaaaaaaaaaaa1')]), peer_status: { 'acme/a': null } },
      false,
    ).mesh;
    applyMessage(mesh, { type: 'peer_status', status: { 'acme/b': { latest_handshake: 1, rx_bytes: 2, tx_bytes: 3, endpoint: null, reported_at: at } } }, true);
    assert.deepEqual(Object.keys(mesh.peerStatus).sort(), ['acme/a', 'acme/b']);
    assert.deepEqual(regionCounts(mesh).get('ams'), { hosts: 1, machines: 1 });
  });

  it('text forms', () => {
    assert.equal(ago(null), 'never');
    assert.equal(ago(4), '4 s ago');
    assert.equal(ago(600), '10 min ago');
    assert.equal(ago(7200), '2 h ago');
    assert.equal(handshakeAge(0, 1e12), 'never');
    assert.equal(handshakeAge(1000, 1_012_000), '12 s ago');
    assert.equal(bytes(512), '512 B');
    assert.equal(bytes(1536), '1.5 KiB');
    assert.equal(bytes(1_234_567), '1.2 MiB');
    assert.ok(matches('', 'x'));
    assert.ok(matches('AMS', 'web', 'ams'));
    assert.ok(!matches('syd', 'web', null, undefined, 'ams'));
  });
});
