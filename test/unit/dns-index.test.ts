// The index patched change by change must answer exactly like an index built
// from scratch, and must only report (and rebuild) the networks a change touched.
import assert from 'node:assert/strict';
import { buildIndex, type DnsIndex } from '../../src/dns/index.js';
import { DnsIndexer } from '../../src/dns/indexer.js';
import { lookup } from '../../src/dns/lookup.js';
import { QTYPE, reverseName } from '../../src/dns/names.js';
import type { ChangeOp, Machine, MachineState } from '../../src/model/types.js';
import {
  fixtureReplica,
  HOST_AMS,
  HOST_IAD,
  HOST_SYD,
  machine,
  NET_ACME,
  NET_ACME_STAGING,
  NET_GLOBEX,
  peer,
  rng,
  WEB_AMS,
} from '../../testkit/dns-fixture.js';

const NETS = [NET_ACME, NET_GLOBEX, NET_ACME_STAGING];
const APPS: Record<number, string[]> = { [NET_ACME]: ['web', 'db', 'empty', 'new1'], [NET_GLOBEX]: ['api', 'web2', 'new2'], [NET_ACME_STAGING]: ['stg'] };

function namesFor(index: DnsIndex, net: number): [string, number][] {
  const out: [string, number][] = [
    ['_apps.internal', QTYPE.TXT],
    ['_instances.internal', QTYPE.TXT],
    ['all._instances.internal', QTYPE.TXT],
    ['_peer.internal', QTYPE.TXT],
  ];
  for (const app of APPS[net]!) {
    out.push(
      [`${app}.internal`, QTYPE.AAAA],
      [`vms.${app}.internal`, QTYPE.TXT],
      [`all.vms.${app}.internal`, QTYPE.TXT],
      [`regions.${app}.internal`, QTYPE.TXT],
    );
    for (const r of ['iad', 'ams', 'syd', 'ord']) out.push([`${r}.${app}.internal`, QTYPE.AAAA]);
    out.push(
      [`primary.role.kv._metadata.${app}.internal`, QTYPE.AAAA],
      [`top2.nearest.of.${app}.internal`, QTYPE.AAAA],
      [`worker.process.${app}.internal`, QTYPE.AAAA],
    );
  }
  for (const n of index.networks.values()) {
    for (const a of n.apps.values()) {
      for (const i of a.all) {
        out.push([`${i.id}.vm.${a.name}.internal`, QTYPE.AAAA]);
        out.push([reverseName(i.address)!, QTYPE.PTR]);
      }
    }
    for (const p of n.peers.values()) out.push([`${p.name}._peer.internal`, QTYPE.AAAA], [reverseName(p.address)!, QTYPE.PTR]);
  }
  return out;
}

function assertSameAnswers(got: DnsIndex, want: DnsIndex, step: number): void {
  for (const net of NETS) {
    for (const region of ['iad', 'syd', null]) {
      for (const [name, type] of namesFor(want, net)) {
        // SOA serials differ by design: a patched network carries the rev of its last change
        const a = JSON.stringify(lookup(got, name, type, net, region)).replace(/"serial":\d+/g, '"serial":0');
        const b = JSON.stringify(lookup(want, name, type, net, region)).replace(/"serial":\d+/g, '"serial":0');
        assert.equal(a, b, `step ${step}: ${name} ${type} net ${net} region ${region}`);
      }
    }
  }
}

describe('dns index', () => {
  for (const seed of [42, 7, 1234])
    it(`patched change by change answers like a full rebuild (200 random changes, seed ${seed})`, () => {
      const replica = fixtureReplica(100);
      const indexer = new DnsIndexer(replica);
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const states: MachineState[] = ['created', 'started', 'started', 'stopped', 'failed', 'destroyed'];
      let rev = 100;
      let serial = 0;
      for (let step = 0; step < 200; step++) {
        const ops: ChangeOp[] = [];
        const nOps = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < nOps; k++) {
          const roll = rand();
          const machines = [...replica.machines.values()];
          if (roll < 0.35 && machines.length) {
            const m = pick(machines);
            ops.push({
              entity: 'machine',
              op: 'upsert',
              data: {
                ...m,
                state: pick(states),
                metadata: rand() < 0.3 ? { role: pick(['primary', 'replica']) } : m.metadata,
                ...(rand() < 0.3 ? { health: pick(['passing', 'critical'] as const) } : {}),
              },
            });
          } else if (roll < 0.6) {
            const net = pick(NETS);
            const app = pick(APPS[net]!);
            if (!replica.apps.has(app))
              ops.push({ entity: 'app', op: 'upsert', data: { name: app, org: net === NET_GLOBEX ? 'globex' : 'acme', network_id: net, created_at: '' } });
            const id = `${(0x10000000 + serial++).toString(16)}abcdef`;
            const host = pick([HOST_IAD, HOST_AMS, HOST_SYD]);
            ops.push({ entity: 'machine', op: 'upsert', data: machine(id, app, net, host, pick(states), { group: pick(['app', 'worker']) }) as Machine });
          } else if (roll < 0.72) {
            const net = pick(NETS);
            const org = net === NET_GLOBEX ? 'globex' : 'acme';
            const withApp = rand() < 0.5 ? pick(APPS[net]!) : null;
            ops.push({
              entity: 'peer',
              op: 'upsert',
              data: peer(pick(['p1', 'p2', 'laptop']), org, net, 20 + Math.floor(rand() * 5), withApp, pick(['ord', 'lhr'])),
            });
          } else if (roll < 0.8) {
            ops.push({
              entity: 'host',
              op: 'upsert',
              data: { ...replica.hosts.get(String(pick([HOST_IAD, HOST_AMS])))!, region: pick(['iad', 'ams', 'syd', 'nrt']) },
            });
          } else if (roll < 0.86 && machines.length) {
            ops.push({ entity: 'machine', op: 'delete', key: pick(machines).id });
          } else if (roll < 0.9) {
            const peers = [...replica.peers.keys()];
            if (peers.length) ops.push({ entity: 'peer', op: 'delete', key: pick(peers) });
          } else if (roll < 0.95) {
            const m = pick(machines);
            if (m) ops.push({ entity: 'machine', op: 'upsert', data: { ...m, state: 'destroyed' } });
          } else {
            const app = pick(['empty', 'new1', 'new2']);
            if (replica.apps.has(app)) ops.push({ entity: 'app', op: 'delete', key: app });
          }
        }
        if (!ops.length) continue;
        replica.applyChange({ rev: ++rev, at: '', ops });
        assertSameAnswers(indexer.current, buildIndex(replica), step);
      }
    });

  it('rebuilds only the touched network and reports it', () => {
    const replica = fixtureReplica(100);
    const indexer = new DnsIndexer(replica);
    const before = indexer.current;
    let reported: ReadonlySet<number> | null | undefined;
    indexer.subscribe((nets) => {
      reported = nets;
    });
    replica.applyChange({ rev: 101, at: '', ops: [{ entity: 'machine', op: 'upsert', data: { ...WEB_AMS, state: 'stopped' } }] });
    const after = indexer.current;
    assert.notEqual(after, before, 'a new index object');
    assert.deepEqual([...reported!], [NET_ACME]);
    assert.equal(after.networks.get(NET_GLOBEX), before.networks.get(NET_GLOBEX), 'untouched network shared');
    assert.notEqual(after.networks.get(NET_ACME), before.networks.get(NET_ACME));
    assert.equal(after.networks.get(NET_ACME)!.apps.get('db'), before.networks.get(NET_ACME)!.apps.get('db'), 'untouched app shared');
    assert.equal(after.networks.get(NET_ACME)!.serial, 101);
    assert.equal(after.networks.get(NET_GLOBEX)!.serial, 100);
    // the old index still answers the old state: a query in flight never sees half an update
    assert.equal((lookup(before, 'web.internal', QTYPE.AAAA, NET_ACME) as { answers: unknown[] }).answers.length, 4);
    assert.equal((lookup(after, 'web.internal', QTYPE.AAAA, NET_ACME) as { answers: unknown[] }).answers.length, 3);
  });

  it('records received together are patched in once; a read in between sees every record applied', async () => {
    const replica = fixtureReplica(100);
    const indexer = new DnsIndexer(replica);
    const swaps: (ReadonlySet<number> | null)[] = [];
    indexer.subscribe((nets) => swaps.push(nets));
    const stopped = (m: Machine): ChangeOp => ({ entity: 'machine', op: 'upsert', data: { ...m, state: 'stopped' } });
    replica.applyChange({ rev: 101, at: '', ops: [stopped(WEB_AMS)] });
    assert.equal(swaps.length, 0, 'not patched yet');
    // A reader never sees the index behind the replica.
    assert.equal(indexer.current.rev, 101);
    assert.equal((lookup(indexer.current, 'web.internal', QTYPE.AAAA, NET_ACME) as { answers: unknown[] }).answers.length, 3);
    assert.equal(swaps.length, 1);
    // A backlog of records: one patch for all of them, reporting every network they touched.
    const globex = [...replica.machines.values()].find((m) => m.network_id === NET_GLOBEX)!;
    const acme = [...replica.machines.values()].filter((m) => m.network_id === NET_ACME && m.id !== WEB_AMS.id);
    replica.applyChange({ rev: 102, at: '', ops: [stopped(acme[0]!)] });
    replica.applyChange({ rev: 103, at: '', ops: [stopped(globex)] });
    replica.applyChange({ rev: 104, at: '', ops: [stopped(acme[1]!)] });
    await new Promise((r) => setImmediate(r));
    assert.equal(swaps.length, 2);
    assert.deepEqual([...swaps[1]!].sort(), [NET_ACME, NET_GLOBEX].sort());
    assert.equal(indexer.current.rev, 104);
    assertSameAnswers(indexer.current, buildIndex(replica), 0);
    indexer.close();
  });

  it('a snapshot rebuilds everything', () => {
    const replica = fixtureReplica(100);
    const indexer = new DnsIndexer(replica);
    let reported: ReadonlySet<number> | null | undefined;
    indexer.subscribe((nets) => {
      reported = nets;
    });
    replica.applySnapshot(200, { ...replica.toState(), machines: [] });
    assert.equal(reported, null);
    assert.equal(lookup(indexer.current, 'web.internal', QTYPE.AAAA, NET_ACME).kind, 'answer'); // EXT peer remains
    assert.equal(lookup(indexer.current, 'db.internal', QTYPE.AAAA, NET_ACME).kind, 'nodata');
  });
});
