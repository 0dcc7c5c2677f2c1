// A host credential's watch stream over real HTTP (src/coordinator/host-scope.ts):
// every host, and only the orgs the host runs. The attacker's view: a stolen host
// credential, whatever feed protocol it asks for, never reads a byte of an org
// that host does not run; an org comes into its stream when a machine of it lands there.
import assert from 'node:assert/strict';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { FEED_PROTO, type FeedMessage, type State } from '../../src/model/types.js';
import { until } from '../../testkit/until.js';
import { KEY_A, KEY_B, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { openWatch, type WatchStream } from '../../testkit/watch.js';

/** Read a snapshot (one line or framed) off `w`; returns its revision and state. */
async function snapshotOf(w: WatchStream): Promise<{ rev: number; state: State }> {
  const first = await w.next();
  if (first.type === 'snapshot') return { rev: first.rev, state: first.state };
  assert.equal(first.type, 'snapshot_begin');
  const state: State = { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] };
  for (;;) {
    const m = await w.next();
    if (m.type === 'snapshot_end') return { rev: m.rev, state };
    assert.equal(m.type, 'snapshot_rows');
    if (m.type === 'snapshot_rows') (state[m.kind] as unknown[]).push(...m.rows);
  }
}

describe('host-scoped watch stream (a host credential)', () => {
  let c: TestCoordinator;
  let iad: string;
  let ams: string;
  let iadId: number;
  let globexOnAms: string;
  before(async () => {
    c = await testCoordinator({ heartbeatMs: 5000 });
    await c.listen();
    for (const [org, app] of [
      ['acme', 'web'],
      ['globex', 'api'],
    ]) {
      await c.call('POST', '/v1/orgs', { name: org });
      await c.call('POST', '/v1/apps', { name: app, org });
    }
    const a = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json;
    const b = (await c.call('POST', '/v1/hosts', { region: 'ams', endpoint: '192.0.2.2:51820', public_key: KEY_B })).json;
    iad = a.credential;
    ams = b.credential;
    iadId = a.host.id;
    await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' });
    globexOnAms = (await c.call('POST', '/v1/machines', { app: 'api', region: 'ams' })).json.machine.id;
  });
  after(() => c.close());

  for (const proto of [1, 2, FEED_PROTO])
    it(`proto ${proto}: the snapshot has every host and the host's own org only; another org's changes never reach it`, async () => {
      const lines: string[] = [];
      const w = await openWatch(c.url, iad, 0, { proto, raw: (l) => lines.push(l) });
      try {
        const snap = await snapshotOf(w);
        assert.deepEqual(snap.state.hosts.map((h) => h.region).sort(), ['ams', 'iad']);
        assert.deepEqual(
          snap.state.orgs.map((o) => o.name),
          ['acme'],
        );
        assert.deepEqual(
          snap.state.machines.map((m) => m.app),
          ['web'],
        );
        const meta = await c.call('PUT', `/v1/machines/${globexOnAms}/metadata/role`, { value: `secret-globex-${proto}` });
        assert.equal(meta.status, 200);
        const rev = await c.store.rev();
        if (proto < FEED_PROTO) {
          // Older clients expect every revision: an empty change stands for it.
          const ch = await w.next();
          assert.deepEqual(ch.type === 'change' && [ch.rev, ch.ops], [rev, []]);
        } else {
          // Skipped: within about a second, a heartbeat says the stream read that far.
          assert.deepEqual(await w.next(3000), { type: 'heartbeat', rev });
        }
        assert.ok(!lines.some((l) => l.includes('globex') || l.includes('secret-globex')), 'no byte of globex');
      } finally {
        w.close();
      }
    });

  it("a machine of another org landing on the host brings that org's rows, then its changes", async () => {
    const lines: string[] = [];
    const w = await openWatch(c.url, iad, 0, { proto: FEED_PROTO, raw: (l) => lines.push(l) });
    try {
      await snapshotOf(w);
      const placed = (await c.call('POST', '/v1/machines', { app: 'api', region: 'iad' })).json.machine;
      const ch = await w.next();
      assert.equal(ch.type, 'change');
      if (ch.type !== 'change') return;
      const got = ch.ops.map((o) => `${o.entity}:${o.op}`);
      assert.deepEqual(got.slice(0, 3), ['org:upsert', 'network:upsert', 'app:upsert']);
      const machines = ch.ops.flatMap((o) => (o.entity === 'machine' && o.op === 'upsert' ? [o.data.id] : [])).sort();
      assert.deepEqual(machines, [globexOnAms, placed.id].sort(), "globex's machine on the other host comes too");
      assert.equal(placed.host_id, iadId);
      // From now on globex's changes are the host's.
      await c.call('POST', `/v1/machines/${globexOnAms}/stop`);
      const next = (await w.next()) as FeedMessage & { type: 'change' };
      assert.deepEqual(
        next.ops.map((o) => (o.op === 'upsert' && o.entity === 'machine' ? `${o.data.id}:${o.data.state}` : '')),
        [`${globexOnAms}:stopped`],
      );
    } finally {
      w.close();
    }
  });

  it('the other host sees only its own org until then, and a reader sees everything', async () => {
    const w = await openWatch(c.url, ams, 0, { proto: FEED_PROTO });
    const snap = await snapshotOf(w);
    w.close();
    assert.deepEqual(
      snap.state.orgs.map((o) => o.name),
      ['globex'],
    );
    const all = await openWatch(c.url, c.admin, 0, { proto: FEED_PROTO });
    const full = await snapshotOf(all);
    all.close();
    assert.deepEqual(full.state.orgs.map((o) => o.name).sort(), ['acme', 'globex']);
  });

  it("the agent's FeedClient: its replica holds its orgs only, and its revision follows the coordinator's through skipped changes", async () => {
    const replica = new Replica();
    const feed = new FeedClient({ url: c.url, token: ams, replica, userAgent: 'test' });
    feed.start();
    try {
      await until(() => replica.ready, 5000);
      assert.deepEqual([...replica.orgs.keys()], ['globex']);
      const web = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
      const rev = await c.store.rev();
      await until(() => replica.rev === rev, 5000);
      assert.ok(!replica.machines.has(web.id), "acme's machine never reached the ams host");
      assert.deepEqual([...replica.orgs.keys()], ['globex']);
    } finally {
      await feed.stop();
    }
  });
});
