import assert from 'node:assert/strict';
import {
  appUpserted,
  hostUpserted,
  machineUpserted,
  networksTouched,
  networkUpserted,
  opKey,
  orgUpserted,
  peerDeleted,
  peerUpserted,
  type NetworkLookup,
} from '../../src/model/changes.js';
import type { ChangeOp } from '../../src/model/types.js';
import { DB_1, EXT, HOST_IAD, LAPTOP, NET_ACME, NET_ACME_STAGING, NET_GLOBEX, peer, WEB_AMS } from '../../testkit/dns-fixture.js';

const AT = '2025-01-01T00:00:00.000Z';

describe('change ops', () => {
  it('constructors build the wire shape, keyed as the replica keys them', () => {
    assert.deepEqual(machineUpserted(WEB_AMS), { entity: 'machine', op: 'upsert', data: WEB_AMS });
    assert.deepEqual(peerDeleted('acme', 'laptop'), { entity: 'peer', op: 'delete', key: 'acme/laptop' });
    assert.equal(opKey(peerUpserted(LAPTOP)), 'acme/laptop');
    assert.equal(opKey(peerDeleted('acme', 'laptop')), 'acme/laptop');
    assert.equal(opKey(networkUpserted({ id: 7, org: 'acme', name: 'x', created_at: AT })), '7');
    assert.equal(opKey(orgUpserted({ name: 'acme', network_id: 1, created_at: AT })), 'acme');
  });

  // Before: web in NET_ACME, peer ext1 an instance of web; after: web moved to staging.
  const before: NetworkLookup = {
    appNetwork: (a) => (({ web: NET_ACME, db: NET_ACME }) as Record<string, number>)[a],
    peer: (org, name) => (org === 'acme' && name === 'ext1' ? { network_id: NET_ACME, app: 'web' } : undefined),
  };
  const after = { appNetwork: (a: string) => (({ web: NET_ACME_STAGING, db: NET_ACME }) as Record<string, number>)[a] };

  const cases: { name: string; ops: ChangeOp[]; nets: number[] | null; apps: string[]; machines: string[]; hosts: boolean; orgs: boolean }[] = [
    {
      name: "a machine: its app, the app's network before and after",
      ops: [machineUpserted(DB_1)],
      nets: [NET_ACME],
      apps: ['db'],
      machines: [DB_1.id],
      hosts: false,
      orgs: false,
    },
    {
      name: 'an app that moved: both networks',
      ops: [appUpserted({ name: 'web', org: 'acme', network_id: NET_ACME_STAGING, created_at: AT })],
      nets: [NET_ACME, NET_ACME_STAGING],
      apps: ['web'],
      machines: [],
      hosts: false,
      orgs: false,
    },
    {
      name: 'a peer that left an app: its old network and old app too',
      ops: [peerUpserted({ ...EXT, app: null, network_id: NET_GLOBEX })],
      nets: [NET_ACME, NET_ACME_STAGING, NET_GLOBEX],
      apps: ['web'],
      machines: [],
      hosts: false,
      orgs: false,
    },
    {
      name: 'a new peer: its network only',
      ops: [peerUpserted(peer('new', 'acme', NET_GLOBEX, 12, null))],
      nets: [NET_GLOBEX],
      apps: [],
      machines: [],
      hosts: false,
      orgs: false,
    },
    {
      name: 'a host: no network',
      ops: [hostUpserted({ id: HOST_IAD, region: 'iad', endpoint: '192.0.2.1:51820', public_key: 'k', gateway: true, created_at: AT })],
      nets: [],
      apps: [],
      machines: [],
      hosts: true,
      orgs: false,
    },
    {
      name: 'an org and its network: flagged',
      ops: [orgUpserted({ name: 'x', network_id: 9, created_at: AT }), networkUpserted({ id: 9, org: 'x', name: 'default', created_at: AT })],
      nets: [],
      apps: [],
      machines: [],
      hosts: false,
      orgs: true,
    },
    {
      name: 'a delete by key: cannot tell, every network',
      ops: [machineUpserted(DB_1), peerDeleted('acme', 'laptop')],
      nets: null,
      apps: ['db'],
      machines: [DB_1.id],
      hosts: false,
      orgs: false,
    },
    {
      name: 'a host delete: hosts only',
      ops: [{ entity: 'host', op: 'delete', key: String(HOST_IAD) }],
      nets: [],
      apps: [],
      machines: [],
      hosts: true,
      orgs: false,
    },
  ];
  for (const c of cases) {
    it(`networksTouched: ${c.name}`, () => {
      const t = networksTouched(c.ops, before, after);
      const num = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);
      assert.deepEqual(t.networks === null ? null : num(t.networks), c.nets && num(c.nets));
      assert.deepEqual([...t.apps].sort(), c.apps);
      assert.deepEqual([...t.machines], c.machines);
      assert.equal(t.hosts, c.hosts);
      assert.equal(t.orgs, c.orgs);
    });
  }

  it('networksTouched without lookups: only what the ops name', () => {
    const t = networksTouched([machineUpserted(WEB_AMS), peerUpserted(EXT)]);
    assert.deepEqual([...t.networks!], [NET_ACME]);
    assert.deepEqual([...t.apps].sort(), ['web']);
  });
});
