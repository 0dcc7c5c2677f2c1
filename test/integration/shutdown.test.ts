// SIGTERM to `sixpn coordinator`: watch streams end with a final `bye` line,
// a write already in flight is finished, acknowledged and durable, and the
// process exits 0.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { FeedMessage } from '../../src/model/types.js';
import { startPg, type PgCluster } from '../../testkit/pg.js';
import { sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';
import { openWatch, type WatchStream } from '../../testkit/watch.js';
import { until } from '../../testkit/until.js';

async function post(url: string, token: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Every line until the stream ends (lines arrive before 'end', so they are all queued by then). */
async function rest(w: WatchStream): Promise<FeedMessage[]> {
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('watch stream did not end')), 10_000);
    const done = (): void => {
      clearTimeout(t);
      resolve();
    };
    if (w.res.readableEnded || w.res.destroyed) done();
    w.res.once('end', done);
    w.res.once('close', done);
  });
  const out: FeedMessage[] = [];
  for (;;) {
    try {
      out.push(await w.next(1));
    } catch {
      return out;
    }
  }
}

describe('graceful shutdown of the coordinator (SIGTERM)', function () {
  this.timeout(40_000);
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir('sixpn-shutdown-');
  });
  let cluster: PgCluster | null = null;
  const procs: Proc[] = [];
  after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    cluster?.stop();
    dir?.remove();
  });

  async function start(args: string[]): Promise<{ proc: Proc; url: string }> {
    const proc = sixpn(['coordinator', '--listen', '127.0.0.1:0', ...args]);
    procs.push(proc);
    return { proc, url: (await proc.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]! };
  }

  it('PostgreSQL: a watcher gets `bye`, a write blocked in the database at SIGTERM is answered 201 and is durable', async () => {
    cluster = await startPg();
    const db = await cluster.createDb('shutdown');
    const { proc, url } = await start(['--db', db]);
    const admin = (await proc.waitFor(/admin token \(shown once[^)]*\): (\S+)/))[1]!;
    assert.equal((await post(url, admin, '/v1/orgs', { name: 'acme' })).status, 201);
    const w = await openWatch(url, admin, 0);
    assert.equal((await w.next()).type, 'snapshot');

    // Hold the global write lock so the next write is provably in flight when SIGTERM arrives.
    const blocker = new pg.Client({ connectionString: db });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT rev FROM revision WHERE id = 1 FOR UPDATE');
      const write = post(url, admin, '/v1/orgs', { name: 'inflight' });
      await until(async () => (await blocker.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'shutdown'")).rowCount === 1);

      proc.child.kill('SIGTERM');
      const lines = await rest(w);
      const bye = lines[lines.length - 1];
      assert.deepEqual(bye, { type: 'bye', rev: 1, reason: 'coordinator shutting down' });
      assert.equal(proc.child.exitCode, null, 'still draining: the write is not done');

      await blocker.query('COMMIT');
      const res = await write;
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.org.name, 'inflight');
      assert.equal(await proc.exited, 0);
      assert.match(proc.stderr(), /"msg":"coordinator stopped"/);

      const rows = await blocker.query<{ rev: string; ops: string }>('SELECT rev, ops FROM changes ORDER BY rev');
      assert.deepEqual(
        rows.rows.map((r) => Number(r.rev)),
        [1, 2],
      );
      assert.equal(JSON.parse(rows.rows[1]!.ops)[0].data.name, 'inflight');
    } finally {
      await blocker.end();
    }
  });

  it('SQLite: writes racing SIGTERM are each answered or refused, never lost; watchers get `bye`', async () => {
    const data = join(dir.path, 'sqlite');
    const { proc, url } = await start(['--data', data]);
    const admin = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    await post(url, admin, '/v1/orgs', { name: 'acme' });
    await post(url, admin, '/v1/apps', { name: 'web', org: 'acme' });
    await post(url, admin, '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=' });
    const watchers = await Promise.all([0, 1, 2].map(() => openWatch(url, admin, 0)));
    for (const w of watchers) assert.equal((await w.next()).type, 'snapshot');

    // Writers in flight the whole time; SIGTERM lands in the middle of them.
    const acked: string[] = [];
    const outcomes = new Map<string, number>();
    let stop = false;
    const writer = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await post(url, admin, '/v1/machines', { app: 'web', region: 'iad' });
          outcomes.set(String(r.status), (outcomes.get(String(r.status)) ?? 0) + 1);
          if (r.status === 201) acked.push(r.json.machine.id);
          else if (r.status === 503) stop = true;
        } catch {
          stop = true; // the coordinator is gone: connection refused or closed before a request was taken
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    await until(async () => acked.length >= 50);
    proc.child.kill('SIGTERM');
    const [ends] = await Promise.all([Promise.all(watchers.map(rest)), Promise.all(writers)]);
    for (const lines of ends) assert.equal(lines[lines.length - 1]?.type, 'bye');
    assert.equal(await proc.exited, 0);
    assert.deepEqual(
      [...outcomes.keys()].filter((s) => s !== '201' && s !== '503'),
      [],
      `statuses: ${JSON.stringify([...outcomes])}`,
    );

    const sdb = new Database(join(data, 'sixpn.db'), { readonly: true });
    try {
      const ids = new Set(sdb.prepare('SELECT id FROM machines').pluck().all() as string[]);
      for (const id of acked) assert.ok(ids.has(id), `acknowledged machine ${id} is on disk`);
      const revs = sdb.prepare('SELECT rev FROM changes ORDER BY rev').pluck().all() as number[];
      assert.deepEqual(
        revs,
        Array.from({ length: revs.length }, (_, i) => i + 1),
      );
      assert.equal(revs.length, 3 + ids.size);
    } finally {
      sdb.close();
    }
  });
});
