import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { KEY_A, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { openWatch } from '../../testkit/watch.js';
import { until } from '../../testkit/until.js';

describe('change feed', () => {
  let c: TestCoordinator;
  before(async () => {
    c = await testCoordinator({ heartbeatMs: 200, keepChanges: 20, drainTimeoutMs: 500 });
    await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A });
  });
  after(() => c.close());

  it('streams a snapshot at since=0, then each change, then heartbeats', async () => {
    const w = await openWatch(c.url, c.admin, 0);
    const snap = await w.next();
    assert.equal(snap.type, 'snapshot');
    if (snap.type !== 'snapshot') return;
    assert.ok(snap.state.regions.length >= 30);
    assert.deepEqual(
      snap.state.apps.map((a) => a.name),
      ['web'],
    );
    const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    const ch = await w.next();
    assert.equal(ch.type, 'change');
    if (ch.type !== 'change') return;
    assert.equal(ch.rev, snap.rev + 1);
    assert.deepEqual(ch.ops, [{ entity: 'machine', op: 'upsert', data: m }]);
    const hb = await w.next(2000);
    assert.deepEqual(hb, { type: 'heartbeat', rev: ch.rev });
    w.close();
  });

  it('resumes exactly after REV: no gap, no duplicate', async () => {
    const rev = await c.store.rev();
    for (let i = 0; i < 3; i++) await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' });
    const w = await openWatch(c.url, c.admin, rev);
    const revs = [];
    for (let i = 0; i < 3; i++) revs.push(((await w.next()) as { rev: number }).rev);
    assert.deepEqual(revs, [rev + 1, rev + 2, rev + 3]);
    w.close();
  });

  it('sends a snapshot when REV is older than the kept changes', async () => {
    for (let i = 0; i < 45; i++) await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' });
    const w = await openWatch(c.url, c.admin, 1);
    const first = await w.next();
    assert.equal(first.type, 'snapshot');
    assert.equal(first.rev, await c.store.rev());
    w.close();
  });

  it('keeps a replica in step through the client, across a reconnect', async () => {
    const replica = new Replica();
    const client = new FeedClient({ url: c.url, token: c.admin, replica, minBackoffMs: 20, idleTimeoutMs: 2000 });
    client.start();
    try {
      await until(() => replica.ready);
      const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
      await until(() => replica.machines.has(m.id));
      let snapshots = 0;
      replica.subscribe((u) => {
        if (u.ops === null) snapshots++;
      });
      // Cut every watch connection server-side; the client must resume, not re-snapshot.
      c.app.server.closeAllConnections();
      await c.call('POST', `/v1/machines/${m.id}/stop`);
      await until(() => replica.machines.get(m.id)?.state === 'stopped');
      assert.equal(replica.rev, await c.store.rev());
      assert.equal(snapshots, 0, 'a resume within the kept changes needs no snapshot');
    } finally {
      await client.stop();
    }
  });
});

describe('change feed with a stuck reader', () => {
  let c: TestCoordinator;
  before(async () => {
    c = await testCoordinator({ drainTimeoutMs: 500 });
    await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A });
  });
  after(() => c.close());

  it('cuts a reader that stops reading, and it resumes from its revision', async () => {
    const rev = await c.store.rev();
    const port = new URL(c.url).port;
    // A reader with a tiny receive buffer that never reads past the headers (Node cannot shrink SO_RCVBUF).
    const stuck = spawn(
      'python3',
      [
        '-c',
        `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", ${port}))
s.sendall(b"GET /v1/watch?since=${rev} HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer ${c.admin}\\r\\n\\r\\n")
time.sleep(60)
`,
      ],
      { stdio: 'ignore' },
    );
    try {
      await until(() => c.hub.watcherCount === 1);
      const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
      for (let i = 0; i < 5000 && c.hub.watcherCount > 0; i++) {
        await c.call('PUT', `/v1/machines/${m.id}/metadata/k${i % 60}`, { value: `${i}`.padEnd(255, 'x') });
      }
      await until(() => c.hub.watcherCount === 0, 10_000);
    } finally {
      stuck.kill('SIGKILL');
    }
    const w = await openWatch(c.url, c.admin, rev);
    const first = await w.next();
    assert.equal((first as { rev: number }).rev, rev + 1, 'resumed from its revision');
    w.close();
  });
});
