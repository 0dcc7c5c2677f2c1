// A host credential's watch stream (src/coordinator/host-scope.ts over
// fleet-state.ts): a table of single changes, then random sequences (fast-check)
// through a real Replica on each side: the host's replica holds every host and
// exactly the rows of the orgs it took on, equal to the coordinator's, and it
// took on every org it carries.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FleetState, type OpOrg } from '../../src/coordinator/fleet-state.js';
import { HostScope } from '../../src/coordinator/host-scope.js';
import { Replica } from '../../src/feed/replica.js';
import type { ChangeOp, ChangeRecord, FeedMessage, Machine, MachineState, Peer, State } from '../../src/model/types.js';
import { fixtureHost, fixtureMachine } from '../../testkit/agent-self.js';

const ORGS = ['acme', 'globex', 'initech'];
const netOf = (org: string): number => 10 + ORGS.indexOf(org);
const mid = (n: number): string => `${(0x10000000 + n).toString(16)}abcdef`;
const machine = (n: number, org: string, hostId: number, state: MachineState = 'started', o: Partial<Machine> = {}): Machine =>
  fixtureMachine(mid(n), hostId, netOf(org), state, { org, app: `${org}-web`, ...o });
const peer = (name: string, org: string, hostId: number): Peer => ({
  org,
  name,
  network_id: netOf(org),
  host_id: hostId,
  region: 'ams',
  index: 1,
  address: `fdaa::${name.length}`,
  public_key: `${'p'.repeat(43)}=`,
  app: null,
  created_at: '',
});
const orgRows = (org: string): ChangeOp[] => [
  { entity: 'org', op: 'upsert', data: { name: org, network_id: netOf(org), created_at: '' } },
  { entity: 'network', op: 'upsert', data: { id: netOf(org), org, name: 'default', created_at: '' } },
  { entity: 'app', op: 'upsert', data: { name: `${org}-web`, org, network_id: netOf(org), created_at: '' } },
];
const base = (): State => {
  const s: State = { regions: [], orgs: [], networks: [], apps: [], hosts: [1, 2, 3].map((id) => fixtureHost(id)), machines: [], peers: [] };
  for (const org of ORGS) for (const op of orgRows(org)) if (op.op === 'upsert') (s[`${op.entity}s` as 'orgs'] as unknown[]).push(op.data);
  s.machines.push(machine(1, 'acme', 1), machine(2, 'acme', 2), machine(3, 'globex', 2));
  return s;
};

/** The coordinator's side and one host's stream, each into a replica; `step` commits one record. */
function stream(state: State, hostId: number) {
  const fleet = new FleetState();
  fleet.load(1, state);
  const full = new Replica();
  full.applySnapshot(1, state);
  const scope = new HostScope(hostId, fleet);
  const host = new Replica();
  const snap = JSON.parse(Buffer.concat(scope.snapshot(1).bytes).toString()) as FeedMessage & { type: 'snapshot' };
  host.applySnapshot(snap.rev, snap.state);
  return {
    fleet,
    full,
    host,
    step(ops: ChangeOp[]): ChangeOp[] | 'whole' {
      const rec: ChangeRecord = { rev: full.rev + 1, at: '', ops };
      full.applyChange(rec);
      const out = scope.filter(rec, fleet.apply(rec));
      host.applyChange(out === 'whole' ? rec : { ...rec, ops: out });
      return out;
    },
  };
}

const orgsIn = (r: Replica): Set<string> =>
  new Set([...r.orgs.keys(), ...[...r.networks.values(), ...r.apps.values(), ...r.machines.values(), ...r.peers.values()].map((x) => x.org)]);
const rowsOf = (r: Replica, org: string): unknown[] => [
  [...r.orgs.values()].filter((o) => o.name === org),
  ...[r.networks, r.apps, r.machines, r.peers].map((m) => [...m.entries()].filter(([, x]) => x.org === org).sort(([a], [b]) => (a < b ? -1 : 1))),
];

/** The host's replica against the coordinator's: hosts equal, each org it holds whole, every org it carries held. */
function assertScoped(full: Replica, host: Replica, hostId: number): void {
  assert.deepEqual([...host.hosts.entries()].sort(), [...full.hosts.entries()].sort());
  for (const org of orgsIn(host)) assert.deepEqual(rowsOf(host, org), rowsOf(full, org), `rows of ${org}`);
  const carried = [...full.machines.values(), ...full.peers.values()].filter((x) => x.host_id === hostId).map((x) => x.org);
  for (const org of carried) assert.ok(orgsIn(host).has(org), `host ${hostId} carries ${org} but holds none of it`);
}

type GenOp =
  | { kind: 'machine'; n: number; org: string; host: number; state: MachineState }
  | { kind: 'machineDelete'; n: number }
  | { kind: 'peer'; name: string; org: string; host: number }
  | { kind: 'peerDelete'; name: string; org: string }
  | { kind: 'host'; host: number; port: number }
  | { kind: 'app'; org: string; gone: boolean };

describe('host-scoped watch stream', () => {
  it('the snapshot: every host, the orgs with a machine on the host, nothing of another org', () => {
    const s = stream(base(), 1);
    assert.deepEqual([...orgsIn(s.host)], ['acme']);
    assert.equal(s.host.hosts.size, 3);
    assert.deepEqual([...s.host.machines.keys()].sort(), [mid(1), mid(2)]);
    assertScoped(s.full, s.host, 1);
  });

  const cases: { name: string; ops: ChangeOp[]; want: 'whole' | 'none' | ((ops: ChangeOp[]) => void) }[] = [
    { name: "its org's machine elsewhere passes whole", ops: [{ entity: 'machine', op: 'upsert', data: machine(2, 'acme', 2, 'stopped') }], want: 'whole' },
    { name: 'a host row passes whole', ops: [{ entity: 'host', op: 'upsert', data: fixtureHost(3, 'ams', { endpoint: '198.18.0.99:51820' }) }], want: 'whole' },
    { name: 'a host removed passes whole', ops: [{ entity: 'host', op: 'delete', key: '3' }], want: 'whole' },
    { name: "another org's machine elsewhere is skipped", ops: [{ entity: 'machine', op: 'upsert', data: machine(3, 'globex', 2, 'stopped') }], want: 'none' },
    { name: "another org's machine deleted by key is skipped", ops: [{ entity: 'machine', op: 'delete', key: mid(3) }], want: 'none' },
    { name: 'a delete of an unknown key is skipped', ops: [{ entity: 'machine', op: 'delete', key: mid(99) }], want: 'none' },
    { name: 'a new org is skipped', ops: [{ entity: 'org', op: 'upsert', data: { name: 'umbrella', network_id: 99, created_at: '' } }], want: 'none' },
    {
      name: 'a mixed record keeps its own ops in order, drops the others',
      ops: [
        { entity: 'machine', op: 'upsert', data: machine(3, 'globex', 2, 'stopped') },
        { entity: 'machine', op: 'upsert', data: machine(1, 'acme', 1, 'stopped') },
      ],
      want: (ops) => assert.deepEqual(ops, [{ entity: 'machine', op: 'upsert', data: machine(1, 'acme', 1, 'stopped') }]),
    },
    {
      name: "another org's first machine here brings all that org's rows, its machines elsewhere too",
      ops: [{ entity: 'machine', op: 'upsert', data: machine(4, 'globex', 1) }],
      want: (ops) =>
        assert.deepEqual(
          ops.map((o) => `${o.entity}:${o.op === 'upsert' ? ('id' in o.data ? o.data.id : 'name' in o.data ? o.data.name : '') : o.key}`),
          ['org:globex', `network:${netOf('globex')}`, 'app:globex-web', `machine:${mid(3)}`, `machine:${mid(4)}`],
        ),
    },
    {
      name: "another org's developer peer on this host (a gateway) brings that org",
      ops: [{ entity: 'peer', op: 'upsert', data: peer('laptop', 'initech', 1) }],
      want: (ops) => assert.ok(ops.some((o) => o.entity === 'org' && o.op === 'upsert' && o.data.name === 'initech')),
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const s = stream(base(), 1);
      const out = s.step(c.ops);
      if (c.want === 'whole') assert.equal(out, 'whole');
      else if (c.want === 'none') assert.deepEqual(out, []);
      else {
        assert.notEqual(out, 'whole');
        c.want(out as ChangeOp[]);
      }
      assertScoped(s.full, s.host, 1);
    });

  it('wakes for its own org, a host row or a new org landing here; not for another org elsewhere', () => {
    const fleet = new FleetState();
    fleet.load(1, base());
    const scope = new HostScope(1, fleet);
    scope.snapshot(3);
    const orgs = new Map<ChangeRecord, OpOrg[]>();
    const rec = (ops: ChangeOp[]): ChangeRecord[] => {
      const r: ChangeRecord = { rev: fleet.rev + 1, at: '', ops };
      orgs.set(r, fleet.apply(r));
      return [r];
    };
    assert.equal(scope.wants(rec([{ entity: 'machine', op: 'upsert', data: machine(3, 'globex', 2, 'stopped') }]), orgs), false);
    assert.equal(scope.wants(rec([{ entity: 'machine', op: 'upsert', data: machine(2, 'acme', 2, 'stopped') }]), orgs), true);
    assert.equal(scope.wants(rec([{ entity: 'host', op: 'upsert', data: fixtureHost(3, 'ams', { endpoint: '198.18.0.9:1' }) }]), orgs), true);
    assert.equal(scope.wants(rec([{ entity: 'machine', op: 'upsert', data: machine(5, 'initech', 1) }]), orgs), true);
  });

  it('an org taken on: its ops already in the rows sent are not sent again', () => {
    const fleet = new FleetState();
    fleet.load(1, base());
    const scope = new HostScope(1, fleet);
    scope.snapshot(2);
    // Two records reach the hub before the stream reads the first: the rows sent are as of the second.
    const r2: ChangeRecord = { rev: 2, at: '', ops: [{ entity: 'machine', op: 'upsert', data: machine(4, 'globex', 1) }] };
    const r3: ChangeRecord = { rev: 3, at: '', ops: [{ entity: 'machine', op: 'upsert', data: machine(3, 'globex', 2, 'stopped') }] };
    const o2 = fleet.apply(r2);
    const o3 = fleet.apply(r3);
    const first = scope.filter(r2, o2) as ChangeOp[];
    assert.ok(first.some((o) => o.entity === 'machine' && o.op === 'upsert' && o.data.id === mid(3) && o.data.state === 'stopped'));
    assert.deepEqual(scope.filter(r3, o3), []);
    const r4: ChangeRecord = { rev: 4, at: '', ops: [{ entity: 'machine', op: 'upsert', data: machine(3, 'globex', 2) }] };
    assert.equal(scope.filter(r4, fleet.apply(r4)), 'whole');
  });

  it("freeze: the whole state in the stores' key order (peers by org, then name), untouched by later changes", () => {
    const state = base();
    state.peers.push(peer('b', 'a-b', 1), peer('a', 'a', 1), peer('c', 'a', 2));
    const fleet = new FleetState();
    fleet.load(1, state);
    fleet.apply({ rev: 2, at: '', ops: [{ entity: 'machine', op: 'upsert', data: machine(0, 'acme', 3) }] });
    const snap = fleet.freeze(2);
    fleet.apply({ rev: 3, at: '', ops: [{ entity: 'machine', op: 'delete', key: mid(1) }] });
    const got: Record<string, unknown[]> = {};
    for (const p of snap.pages) {
      const rows = p.frag.length ? (JSON.parse(`[${p.frag.toString()}]`) as unknown[]) : [];
      assert.equal(rows.length, p.rows);
      (got[p.kind] ??= []).push(...rows);
    }
    assert.equal(snap.rev, 2);
    assert.deepEqual(
      (got.machines as Machine[]).map((m) => m.id),
      [mid(0), mid(1), mid(2), mid(3)],
    );
    assert.deepEqual(
      (got.peers as Peer[]).map((p) => `${p.org}/${p.name}`),
      ['a/a', 'a/c', 'a-b/b'],
    );
    assert.deepEqual(got.hosts, state.hosts);
    assert.deepEqual(got.regions, []);
  });

  it('random sequences: every host holds exactly its orgs, equal to the coordinator, after every step', () => {
    const op: fc.Arbitrary<GenOp> = fc.oneof(
      fc.record({
        kind: fc.constant('machine' as const),
        n: fc.integer({ min: 1, max: 8 }),
        org: fc.constantFrom(...ORGS),
        host: fc.integer({ min: 1, max: 3 }),
        state: fc.constantFrom<MachineState>('started', 'stopped', 'destroyed', 'lost'),
      }),
      fc.record({ kind: fc.constant('machineDelete' as const), n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({
        kind: fc.constant('peer' as const),
        name: fc.constantFrom('a', 'bb', 'ccc'),
        org: fc.constantFrom(...ORGS),
        host: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({ kind: fc.constant('peerDelete' as const), name: fc.constantFrom('a', 'bb', 'ccc'), org: fc.constantFrom(...ORGS) }),
      fc.record({ kind: fc.constant('host' as const), host: fc.integer({ min: 1, max: 4 }), port: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('app' as const), org: fc.constantFrom(...ORGS), gone: fc.boolean() }),
    );
    const toOp = (o: GenOp, full: Replica): ChangeOp[] => {
      switch (o.kind) {
        case 'machine': {
          // A machine keeps its org and host once made (as the coordinator's do).
          const was = full.machines.get(mid(o.n));
          return [
            { entity: 'machine', op: 'upsert', data: machine(o.n, was?.org ?? o.org, was?.host_id ?? o.host, o.state, { updated_at: String(full.rev) }) },
          ];
        }
        case 'machineDelete':
          return [{ entity: 'machine', op: 'delete', key: mid(o.n) }];
        case 'peer':
          return [{ entity: 'peer', op: 'upsert', data: peer(o.name, o.org, full.peers.get(`${o.org}/${o.name}`)?.host_id ?? o.host) }];
        case 'peerDelete':
          return [{ entity: 'peer', op: 'delete', key: `${o.org}/${o.name}` }];
        case 'host':
          return [{ entity: 'host', op: 'upsert', data: fixtureHost(o.host, 'ams', { endpoint: `198.18.0.${o.host}:${51820 + o.port}` }) }];
        case 'app':
          return o.gone
            ? [{ entity: 'app', op: 'delete', key: `${o.org}-web` }]
            : [{ entity: 'app', op: 'upsert', data: { name: `${o.org}-web`, org: o.org, network_id: netOf(o.org), created_at: String(full.rev) } }];
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { maxLength: 40 }), (hostId, records) => {
        const s = stream(base(), hostId);
        for (const rec of records) {
          s.step(rec.flatMap((o) => toOp(o, s.full)));
          assertScoped(s.full, s.host, hostId);
        }
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});
