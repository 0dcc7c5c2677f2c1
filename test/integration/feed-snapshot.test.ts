// Streamed watch snapshots on both stores: the framed stream (proto 2) and the
// one line older clients read (proto 1) carry exactly Store.snapshot(); watchers
// that come together share one build; a slow reader is paced by backpressure
// and completes; the build cap holds while later watchers wait (kept alive).
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { buildCoordinator } from '../../src/coordinator/app.js';
import type { FeedHub } from '../../src/coordinator/feed-hub.js';
import type { SnapshotBuildsOptions } from '../../src/coordinator/snapshot-builds.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import { FEED_PROTO, type FeedMessage, type State } from '../../src/model/types.js';
import { PostgresBackend } from '../../src/store/postgres.js';
import { SqliteBackend } from '../../src/store/sqlite.js';
import { Store } from '../../src/store/store.js';
import { KEY_A, KEY_B, KEY_C } from '../../testkit/coordinator.js';
import { startPg, type PgCluster } from '../../testkit/pg.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

interface World {
  store: Store;
  hub: FeedHub;
  url: string;
  admin: string;
  close(): Promise<void>;
}

async function world(
  open: () => Promise<{ store: Store; cleanup: () => void }>,
  opts: { snapshot?: SnapshotBuildsOptions; drainTimeoutMs?: number; heartbeatMs?: number } = {},
): Promise<World> {
  const { store, cleanup } = await open();
  const { token: admin } = await store.createToken({ scope: 'admin' });
  const { app, hub } = await buildCoordinator({ store, logger: silentLogger, ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return {
    store,
    hub,
    url,
    admin,
    async close() {
      const cut = setTimeout(() => app.server.closeAllConnections(), 3000);
      await app.close().finally(() => clearTimeout(cut));
      await store.close();
      cleanup();
    },
  };
}

const onSqlite = async (): Promise<{ store: Store; cleanup: () => void }> => {
  const dir = tempDir();
  return { store: await Store.open(new SqliteBackend(join(dir.path, 'sixpn.db'))), cleanup: () => dir.remove() };
};

/** Orgs, apps, hosts (one a gateway), a peer and `machines` machines, some destroyed; `fat` adds metadata (~16 KiB a machine). */
async function seed(store: Store, machines: number, fat = false): Promise<void> {
  for (const org of ['acme', 'beta']) {
    await store.createOrg(org);
    await store.createApp({ name: `${org}-web`, org });
  }
  await store.enrollHost({ region: 'ams', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: true });
  await store.enrollHost({ region: 'ams', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: false });
  await store.createPeer({ org: 'acme', name: 'laptop', region: 'ams', public_key: KEY_C });
  const metadata = fat ? Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'.repeat(250)])) : undefined;
  const ids = await Promise.all(
    Array.from({ length: machines }, async (_, i) => (await store.createMachine({ app: i % 2 ? 'acme-web' : 'beta-web', region: 'ams', metadata })).id),
  );
  for (const id of ids.slice(0, 3)) await store.setMachineState(id, 'destroyed');
}

/** The raw bytes of a watch opened with `proto` (null: no header, as an older client), until `stop` says enough. */
function rawWatch(url: string, token: string, proto: number | null): { text: () => string; res: Promise<http.IncomingMessage>; close: () => void } {
  let text = '';
  let req: http.ClientRequest;
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (proto !== null) headers['sixpn-feed-proto'] = String(proto);
    req = http.get(`${url}/v1/watch?since=0`, { headers }, (r) => {
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      resolve(r);
    });
    req.on('error', reject);
  });
  return { text: () => text, res, close: () => req.destroy() };
}

/** The first non-blank line, once it is complete (keep-alive newlines may come before it). */
function firstLine(text: string): string | null {
  const lines = text.split('\n');
  return lines.slice(0, -1).find((l) => l.trim()) ?? null;
}

/** The State a proto 2 stream carried, once its snapshot_end arrived. */
function framedState(text: string): { rev: number; state: State } | null {
  const state: State = { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] };
  let rev = -1;
  for (const l of text.split('\n').slice(0, -1)) {
    if (!l.trim()) continue;
    const m = JSON.parse(l) as FeedMessage;
    if (m.type === 'snapshot_begin') rev = m.rev;
    else if (m.type === 'snapshot_rows') (state[m.kind] as unknown[]).push(...m.rows);
    else if (m.type === 'snapshot_end') {
      assert.equal(m.rev, rev);
      assert.equal(
        m.rows,
        Object.values(state).reduce((n, xs) => n + xs.length, 0),
      );
      return { rev, state };
    }
  }
  return null;
}

function snapshotSuite(name: string, open: () => Promise<{ store: Store; cleanup: () => void }>): void {
  it(`${name}: the framed stream, the single line and a FeedClient's replica all equal Store.snapshot()`, async () => {
    const w = await world(open, { snapshot: { pageSize: 7 } }); // small pages: every kind spans several
    try {
      await seed(w.store, 40);
      const want = await w.store.snapshot();
      assert.equal(want.state.machines.length, 37);

      const framed = rawWatch(w.url, w.admin, FEED_PROTO);
      await until(() => framedState(framed.text()) !== null);
      assert.equal((await framed.res).headers['sixpn-feed-proto'], String(FEED_PROTO));
      framed.close();
      assert.deepEqual(framedState(framed.text()), want);
      const pages = framed
        .text()
        .split('\n')
        .filter((l) => l.includes('"snapshot_rows"')).length;
      assert.ok(pages >= 6, `${pages} row lines`);

      const single = rawWatch(w.url, w.admin, null);
      await until(() => firstLine(single.text()) !== null);
      single.close();
      const line = JSON.parse(firstLine(single.text())!) as FeedMessage;
      assert.deepEqual(line, { type: 'snapshot', proto: 1, rev: want.rev, state: want.state });

      const replica = new Replica();
      const feed = new FeedClient({ url: w.url, token: w.admin, replica });
      feed.start();
      await until(() => replica.ready);
      await feed.stop();
      assert.equal(replica.rev, want.rev);
      assert.deepEqual(replica.toState(), want.state);
    } finally {
      await w.close();
    }
  });

  it(`${name}: watchers that come together share one build, each page serialized once`, async () => {
    const w = await world(open, { snapshot: { gatherMs: 300 } });
    try {
      await seed(w.store, 20);
      const replicas = [new Replica(), new Replica(), new Replica()];
      const feeds = replicas.map((replica) => new FeedClient({ url: w.url, token: w.admin, replica }));
      const old = rawWatch(w.url, w.admin, null); // an older client shares it too, in its own framing
      for (const f of feeds) f.start();
      await until(() => replicas.every((r) => r.ready) && firstLine(old.text()) !== null);
      assert.equal(w.hub.snapshots.started, 1, 'one build for four watchers');
      const want = await w.store.snapshot();
      for (const r of replicas) assert.deepEqual(r.toState(), want.state);
      assert.deepEqual(JSON.parse(firstLine(old.text())!).state, want.state);
      // One that comes after the build started gets a build of its own.
      const late = rawWatch(w.url, w.admin, FEED_PROTO);
      await until(() => framedState(late.text()) !== null);
      assert.equal(w.hub.snapshots.started, 2);
      late.close();
      old.close();
      await Promise.all(feeds.map((f) => f.stop()));
    } finally {
      await w.close();
    }
  });
}

describe('streamed watch snapshots', function () {
  this.timeout(120_000);

  describe('on SQLite', () => {
    snapshotSuite('sqlite', onSqlite);

    it('a slow reader is paced, not cut: it completes though it takes longer than the drain timeout', async () => {
      // ~4.7 MiB of snapshot; the reader holds back 400 ms at a time, then takes at most 1 MiB before holding
      // back again, so it needs many rounds (far beyond the 1 s drain timeout in all) whatever the socket buffers hold.
      const w = await world(onSqlite, { drainTimeoutMs: 1000, snapshot: { lagBytes: 64 * 1024, pageSize: 20 } });
      try {
        await seed(w.store, 300, true);
        const want = await w.store.snapshot();
        const slow = rawWatch(w.url, w.admin, FEED_PROTO);
        const res = await slow.res;
        const t0 = Date.now();
        let paused = 0;
        let activeWhilePaused = false;
        while (framedState(slow.text()) === null) {
          res.pause();
          await new Promise((r) => setTimeout(r, 400));
          paused++;
          // The build waits for the reader: it is still running while the reader holds back.
          if (w.hub.snapshots.active === 1) activeWhilePaused = true;
          const mark = slow.text().length;
          const done = () => slow.text().length >= mark + 1024 * 1024 || slow.text().includes('"snapshot_end"');
          const hold = (): void => void (done() && res.pause()); // paused from inside 'data': no more than a chunk past 1 MiB
          res.on('data', hold);
          res.resume();
          await until(done, 30_000, 1);
          res.off('data', hold);
          assert.ok(Date.now() - t0 < 90_000, 'the slow reader finished');
        }
        res.resume();
        assert.ok(Date.now() - t0 > 1000, `took ${Date.now() - t0} ms, longer than the drain timeout`);
        assert.ok(paused >= 3 && activeWhilePaused, `paused ${paused} times, build held: ${activeWhilePaused}`);
        assert.deepEqual(framedState(slow.text()), want);
        // And the stream goes on with changes after the snapshot.
        const m = await w.store.createMachine({ app: 'acme-web', region: 'ams' });
        await until(() => slow.text().includes(m.id));
        slow.close();
      } finally {
        await w.close();
      }
    });

    it('at most maxBuilds builds run; later watchers wait together, kept alive, and share the next', async () => {
      const w = await world(onSqlite, { heartbeatMs: 200, snapshot: { maxBuilds: 1, gatherMs: 0, lagBytes: 64 * 1024, pageSize: 20 } });
      let peak = 0;
      const sample = setInterval(() => (peak = Math.max(peak, w.hub.snapshots.active)), 5);
      try {
        await seed(w.store, 300, true);
        const want = await w.store.snapshot();
        const first = rawWatch(w.url, w.admin, FEED_PROTO);
        (await first.res).pause(); // holds the one build open
        await until(() => w.hub.snapshots.active === 1);
        const second = rawWatch(w.url, w.admin, FEED_PROTO);
        const third = rawWatch(w.url, w.admin, null);
        await until(() => w.hub.snapshots.waiting === 2);
        const metrics = await (await fetch(`${w.url}/metrics`)).text();
        assert.match(metrics, /^sixpn_coordinator_snapshot_builds_active 1$/m);
        assert.match(metrics, /^sixpn_coordinator_snapshot_waiting 2$/m);
        assert.match(metrics, /^sixpn_coordinator_snapshot_builds_total 1$/m);
        // While they wait they get keep-alive newlines (an idle timer counting bytes stays quiet).
        await until(() => second.text().startsWith('\n') && third.text().startsWith('\n'), 3000);
        assert.equal(w.hub.snapshots.started, 1);
        (await first.res).resume();
        await until(() => framedState(second.text()) !== null && firstLine(third.text()) !== null, 30_000);
        assert.equal(w.hub.snapshots.started, 2, 'the two waiting watchers shared the second build');
        assert.equal(peak, 1, 'never two builds at once');
        assert.deepEqual(framedState(first.text()), want);
        assert.deepEqual(framedState(second.text()), want);
        assert.deepEqual(JSON.parse(firstLine(third.text())!).state, want.state);
        for (const s of [first, second, third]) s.close();
      } finally {
        clearInterval(sample);
        await w.close();
      }
    });
  });

  describe('on PostgreSQL', () => {
    let cluster: PgCluster;
    let n = 0;
    before(async () => {
      cluster = await startPg();
    });
    after(() => cluster?.stop());
    snapshotSuite('postgres', async () => {
      const backend = await PostgresBackend.connect(await cluster.createDb(`snap${n++}`));
      return { store: await Store.open(backend), cleanup: () => undefined };
    });
  });
});
