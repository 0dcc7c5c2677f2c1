import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { FeedClient } from '../../src/feed/client.js';
import { Replica, type ReplicaUnknown } from '../../src/feed/replica.js';
import { FEED_PROTO, type FeedMessage } from '../../src/model/types.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { SqliteBackend } from '../../src/store/sqlite.js';
import { Store } from '../../src/store/store.js';
import { testCoordinator } from '../../testkit/coordinator.js';
import { runCli } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

const NOW = '2026-01-01T00:00:00.000Z';
const ORG = { name: 'acme', network_id: 1, created_at: NOW };
const STATE = { regions: [], orgs: [ORG], networks: [], apps: [], hosts: [], machines: [], peers: [] };

describe('versions across the wire and on disk', () => {
  it('a coordinator refuses a database a newer sixpn migrated: exit 1 with a clear message, nothing changed', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'sixpn.db');
      (await Store.open(new SqliteBackend(file))).close();
      const known = Math.max(...MIGRATIONS.map((m) => m.version));
      const db = new Database(file);
      db.pragma(`user_version = ${known + 5}`);
      db.close();
      const r = await runCli(['coordinator', '--data', dir.path, '--listen', '127.0.0.1:0']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        r.stderr.trim(),
        `sixpn coordinator: the database ${file} has schema version ${known + 5}, newer than this sixpn ` +
          `(${r.stderr.match(/this sixpn \(([^)]+)\)/)?.[1]}) knows (${known}): run the newer sixpn that upgraded it, or restore a backup taken before the upgrade`,
      );
      assert.match(r.stderr, /newer than this sixpn \(\d+\.\d+\.\d+/);
      const after = new Database(file, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), known + 5, 'the schema version is left as it was');
      after.close();
    } finally {
      dir.remove();
    }
  });

  it('the watch stream says its protocol version on the snapshot line (and in a header)', async () => {
    const tc = await testCoordinator();
    try {
      const url = await tc.listen();
      // The first line of a watch opened with these request headers, and the response's protocol header.
      const first = async (headers: Record<string, string>): Promise<{ proto: string | null; msg: FeedMessage }> => {
        const ac = new AbortController();
        const res = await fetch(`${url}/v1/watch?since=0`, { headers: { authorization: `Bearer ${tc.admin}`, ...headers }, signal: ac.signal });
        const reader = res.body!.getReader();
        let text = '';
        while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
        ac.abort();
        return { proto: res.headers.get('sixpn-feed-proto'), msg: JSON.parse(text.split('\n')[0]!) as FeedMessage };
      };
      // A client that asks for this version (FeedClient does) gets it: the snapshot comes streamed.
      const now = await first({ 'sixpn-feed-proto': String(FEED_PROTO) });
      assert.equal(now.proto, String(FEED_PROTO));
      assert.equal(now.msg.type, 'snapshot_begin');
      assert.equal((now.msg as { proto?: number }).proto, FEED_PROTO);
      // One that does not ask (an older sixpn) gets version 1: the snapshot as one line, which it reads.
      const old = await first({});
      assert.equal(old.proto, '1');
      assert.equal(old.msg.type, 'snapshot');
      assert.equal((old.msg as { proto?: number }).proto, 1);
      // A client from the future is answered in this coordinator's newest version.
      const future = await first({ 'sixpn-feed-proto': String(FEED_PROTO + 5) });
      assert.equal(future.proto, String(FEED_PROTO));
    } finally {
      await tc.close();
    }
  });

  it('a replica skips entity kinds and ops it does not know, reporting each kind once, and keeps the rest', () => {
    const r = new Replica();
    const unknown: ReplicaUnknown[] = [];
    r.onUnknown((u: ReplicaUnknown) => unknown.push(u));
    r.applySnapshot(1, { ...STATE, volumes: [{ id: 'v1' }] } as never);
    r.applyChange({
      rev: 2,
      at: NOW,
      ops: [{ entity: 'volume', op: 'upsert', data: { id: 'v1' } } as never, { entity: 'org', op: 'upsert', data: { ...ORG, name: 'beta' } }],
    });
    r.applyChange({ rev: 3, at: NOW, ops: [{ entity: 'volume', op: 'delete', key: 'v1' } as never] });
    r.applyChange({ rev: 4, at: NOW, ops: [{ entity: 'org', op: 'patch', key: 'acme' } as never] });
    assert.equal(r.rev, 4);
    assert.deepEqual([...r.orgs.keys()].sort(), ['acme', 'beta']);
    assert.deepEqual(unknown, [
      { what: 'entity', name: 'volume' },
      { what: 'op', name: 'patch' },
    ]);
  });

  it('a feed client keeps one connection to a newer coordinator: unknown kinds, ops and messages are skipped and logged once', async () => {
    let connections = 0;
    const streams: ServerResponse[] = [];
    const lines: unknown[] = [
      { type: 'hello', proto: FEED_PROTO + 1, features: ['volumes'] },
      { type: 'snapshot', proto: FEED_PROTO + 1, rev: 1, state: { ...STATE, volumes: [] } },
      {
        type: 'change',
        rev: 2,
        at: NOW,
        ops: [
          { entity: 'volume', op: 'upsert', data: { id: 'v1' } },
          { entity: 'org', op: 'upsert', data: { ...ORG, name: 'beta' } },
        ],
      },
      { type: 'change', rev: 3, at: NOW, ops: [{ entity: 'volume', op: 'upsert', data: { id: 'v2' } }] },
      { type: 'hello', proto: FEED_PROTO + 1 },
      { type: 'change', rev: 4, at: NOW, ops: [{ entity: 'org', op: 'upsert', data: { ...ORG, name: 'gamma' } }] },
    ];
    const server: Server = createServer((_req, res) => {
      connections++;
      streams.push(res);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const l of lines) res.write(`${JSON.stringify(l)}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(JSON.parse(chunk.toString()));
        cb();
      },
    });
    const replica = new Replica();
    const feed = new FeedClient({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'x',
      replica,
      logger: pino({ level: 'info' }, sink),
      minBackoffMs: 20,
    });
    try {
      feed.start();
      await until(() => replica.rev === 4);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 1, 'no reconnect: nothing crashed');
      assert.deepEqual([...replica.orgs.keys()].sort(), ['acme', 'beta', 'gamma']);
      const warns = logs.filter((l) => l.level === 40);
      assert.deepEqual(
        warns.map((w) => w.msg),
        [
          'feed: skipping a message type this version does not know',
          'feed: the coordinator speaks a newer feed protocol; upgrade this sixpn',
          'feed: skipping changes this version does not know (the coordinator is newer)',
        ],
      );
      assert.equal(warns[0]!.type, 'hello');
      assert.equal(warns[2]!.kind, 'volume');
    } finally {
      await feed.stop();
      for (const s of streams) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
