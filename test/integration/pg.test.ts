// Several coordinators on one PostgreSQL database: one revision stream that
// every coordinator serves identically, propagated by LISTEN/NOTIFY; and a
// clear, retried failure when the database is not there at start.
import assert from 'node:assert/strict';
import pg from 'pg';
import type { FeedMessage } from '../../src/model/types.js';
import { PostgresBackend } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { KEY_A } from '../../testkit/coordinator.js';
import { freePort, startPg, type PgCluster } from '../../testkit/pg.js';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { openWatch, type WatchStream } from '../../testkit/watch.js';

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

async function startCoordinator(dbUrl: string): Promise<{ proc: Proc; url: string }> {
  const proc = sixpn(['coordinator', '--db', dbUrl, '--listen', '127.0.0.1:0', '--log-level', 'info']);
  const m = await proc.waitFor(/"url":"(http:\/\/[^"]+)"/);
  return { proc, url: m[1]! };
}

/** Read change lines until `rev`; returns them in arrival order (snapshot/heartbeats skipped). */
async function changesUntil(w: WatchStream, rev: number): Promise<{ rev: number; ops: unknown }[]> {
  const out: { rev: number; ops: unknown }[] = [];
  for (;;) {
    const msg = await w.next(10_000);
    if (msg.type === 'change') out.push({ rev: msg.rev, ops: msg.ops });
    if ((msg.type === 'change' || msg.type === 'snapshot') && msg.rev >= rev) return out;
  }
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

describe('PostgreSQL: two coordinators on one database', function () {
  this.timeout(60_000);
  let cluster: PgCluster;
  let a: { proc: Proc; url: string };
  let b: { proc: Proc; url: string };
  let admin = '';
  const watches: WatchStream[] = [];

  before(async () => {
    cluster = await startPg();
    const db = await cluster.createDb('two');
    a = await startCoordinator(db);
    admin = (await a.proc.waitFor(/admin token \(shown once[^)]*\): (\S+)/))[1]!;
    b = await startCoordinator(db);
    assert.equal((await api(a.url, admin, 'POST', '/v1/orgs', { name: 'acme' })).status, 201);
    assert.equal((await api(b.url, admin, 'POST', '/v1/apps', { name: 'web', org: 'acme' })).status, 201, 'the admin token works on B too');
    assert.equal((await api(a.url, admin, 'POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).status, 201);
  });
  after(async () => {
    for (const w of watches) w.close();
    await a?.proc.kill();
    await b?.proc.kill();
    cluster?.stop();
  });

  /**
   * A watch stream positioned after `since`. It is opened one revision
   * earlier and that change is consumed: the hub sends its response headers
   * with the first line, so a stream with nothing to send would only open
   * with the first heartbeat.
   */
  async function watch(url: string, since: number): Promise<WatchStream> {
    const w = await openWatch(url, admin, since - 1);
    watches.push(w);
    const first = await w.next();
    assert.equal(first.type === 'change' && first.rev, since);
    return w;
  }

  it("shows a change written through A on B's watch stream, in order", async () => {
    const head = (await api(b.url, admin, 'GET', '/healthz')).json.rev as number;
    const w = await watch(b.url, head);
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const seen = w.next(5000);
      const res = await api(a.url, admin, 'POST', '/v1/machines', { app: 'web', region: 'iad' });
      const tAck = performance.now();
      assert.equal(res.status, 201);
      const msg = await seen;
      const tSeen = performance.now();
      assert.equal(msg.type, 'change');
      if (msg.type !== 'change') return;
      assert.equal(msg.rev, head + 1 + i, "B streams A's writes in revision order, without gaps");
      assert.deepEqual(msg.ops, [{ entity: 'machine', op: 'upsert', data: res.json.machine }]);
      fromSend.push(tSeen - t0);
      fromAck.push(tSeen - tAck);
    }
    // Measured, not asserted: printed for the issue notes.
    console.log(
      `      A write → B watch line: median ${pct(fromSend, 0.5).toFixed(1)} ms, p90 ${pct(fromSend, 0.9).toFixed(1)} ms, max ${Math.max(...fromSend).toFixed(1)} ms ` +
        `(after A's ack: median ${pct(fromAck, 0.5).toFixed(1)} ms, max ${Math.max(...fromAck).toFixed(1)} ms) over ${fromSend.length} writes`,
    );
  });

  it('a token revoked through A ends its watch stream on B within a second', async () => {
    const t = (await api(a.url, admin, 'POST', '/v1/tokens', { scope: 'reader' })).json as { id: string; token: string };
    const w = await openWatch(b.url, t.token, 0);
    watches.push(w);
    assert.equal((await w.next()).type, 'snapshot');
    const ended = new Promise<number>((resolve) => {
      w.res.on('close', () => resolve(Date.now()));
      w.res.resume();
    });
    const t0 = Date.now();
    assert.equal((await api(a.url, admin, 'DELETE', `/v1/tokens/${t.id}`)).status, 200);
    const last = await w.next(2000);
    assert.deepEqual(last, { type: 'error', code: 'unauthorized', message: 'the token was revoked' });
    const took = (await ended) - t0;
    assert.ok(took < 1000, `B's stream ended ${took} ms after the revoke on A`);
    assert.equal((await api(b.url, t.token, 'GET', '/v1/regions')).status, 401, 'and B refuses the token');
  });

  it('keeps revisions gap-free with concurrent writers on both, and both feeds are identical', async () => {
    const start = (await api(a.url, admin, 'GET', '/healthz')).json.rev as number;
    const wa = await watch(a.url, start);
    const wb = await watch(b.url, start);
    const writes: Promise<{ status: number; json: any }>[] = [];
    for (let i = 0; i < 40; i++) {
      const via = i % 2 === 0 ? a.url : b.url;
      writes.push(
        i % 10 === 9 ? api(via, admin, 'POST', '/v1/orgs', { name: `org${i}` }) : api(via, admin, 'POST', '/v1/machines', { app: 'web', region: 'iad' }),
      );
    }
    const results = await Promise.all(writes);
    assert.ok(
      results.every((r) => r.status === 201),
      JSON.stringify(results.filter((r) => r.status !== 201)),
    );
    const end = start + 40;
    const fa = await changesUntil(wa, end);
    const fb = await changesUntil(wb, end);
    assert.deepEqual(
      fa.map((c) => c.rev),
      Array.from({ length: 40 }, (_, i) => start + 1 + i),
    );
    assert.deepEqual(fb, fa, 'both coordinators serve the same stream');
    const ids = new Set(results.filter((r) => r.json.machine).map((r) => r.json.machine.id as string));
    const fed = fa.flatMap((c) => (c.ops as { entity: string; data: { id?: string } }[]).filter((o) => o.entity === 'machine').map((o) => o.data.id!));
    assert.deepEqual(new Set(fed), ids, 'every acknowledged machine is in the feed exactly once');
    assert.equal(fed.length, ids.size);
  });

  it('refuses the same org created through both at once with one 201 and one 409', async () => {
    const [ra, rb] = await Promise.all([api(a.url, admin, 'POST', '/v1/orgs', { name: 'race' }), api(b.url, admin, 'POST', '/v1/orgs', { name: 'race' })]);
    assert.deepEqual([ra.status, rb.status].sort(), [201, 409]);
  });

  it('migrates once when several coordinators start together on an empty database', async () => {
    const db = await cluster.createDb('fresh');
    const stores = await Promise.all([0, 1, 2].map(async () => Store.open(await PostgresBackend.connect(db))));
    try {
      const c = new pg.Client({ connectionString: db });
      await c.connect();
      const v = await c.query('SELECT version FROM schema_version ORDER BY version');
      await c.end();
      assert.deepEqual(
        v.rows.map((r: { version: number }) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
      assert.equal((await stores[1]!.listRegions()).length, (await stores[0]!.listRegions()).length);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('keeps following the other coordinator after its LISTEN connection is cut', async () => {
    const head = (await api(b.url, admin, 'GET', '/healthz')).json.rev as number;
    const w = await watch(b.url, head);
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    try {
      const r = await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN sixpn_commit'");
      assert.equal(r.rowCount, 2, 'one LISTEN connection per coordinator');
    } finally {
      await c.end();
    }
    const res = await api(a.url, admin, 'POST', '/v1/machines', { app: 'web', region: 'iad' });
    assert.equal(res.status, 201);
    let msg: FeedMessage;
    do msg = await w.next(10_000);
    while (msg.type === 'heartbeat');
    assert.equal(msg.type, 'change');
    assert.equal((msg as { rev: number }).rev, head + 1);
    await b.proc.waitFor(/LISTEN connection back/);
  });
});

describe('PostgreSQL: the database at start', function () {
  this.timeout(60_000);
  let cluster: PgCluster | null = null;
  const procs: Proc[] = [];
  after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    cluster?.stop();
  });

  it('retries an unreachable database, then exits 1 with one line naming the URL without its password', async () => {
    const port = await freePort();
    const r = await runCli(['coordinator', '--db', `postgres://sixpn:s3cret@127.0.0.1:${port}/sixpn`]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    const last = lines[lines.length - 1]!;
    assert.equal(
      last,
      `sixpn coordinator: cannot connect to PostgreSQL at postgres://sixpn:***@127.0.0.1:${port}/sixpn after 6 attempts: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    assert.equal(lines.filter((l) => l.includes('not reachable yet, retrying')).length, 5);
    assert.ok(!r.stderr.includes('s3cret') && !r.stdout.includes('s3cret'), 'the password never shows');
  });

  it('fails at once (no retry) when the database does not exist', async () => {
    cluster = await startPg();
    const r = await runCli(['coordinator', '--db', cluster.url.replace(/\/postgres$/, '/nope')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/nope: database "nope" does not exist\n$/);
    assert.ok(!r.stderr.includes('retrying'));
  });

  it('starts once the database comes up during its retries', async () => {
    const port = await freePort();
    const p = sixpn(['coordinator', '--db', `postgres://postgres@127.0.0.1:${port}/postgres`, '--listen', '127.0.0.1:0']);
    procs.push(p);
    await p.waitFor(/not reachable yet, retrying/);
    const late = await startPg({ port });
    try {
      await p.waitFor(/coordinator listening/, 20_000);
      const rev = await fetch(`${(await p.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]}/healthz`).then((r) => r.json() as Promise<{ rev: number }>);
      assert.equal(rev.rev, 0);
    } finally {
      await p.kill();
      late.stop();
    }
  });

  it('rejects a --db that is not a postgres:// URL with exit 2', async () => {
    const r = await runCli(['coordinator', '--db', 'mysql://u:pw@h/db']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--db must be a postgres:\/\/ URL/);
    assert.ok(!r.stderr.includes(':pw@'));
  });
});

describe('scripts/pg-create-db.sh', function () {
  this.timeout(30_000);
  let cluster: PgCluster | null = null;
  after(() => cluster?.stop());

  it('creates the role and database (twice: idempotent) and prints a URL a coordinator starts on', async function () {
    if (process.getuid?.() !== 0) this.skip(); // it runs psql as the postgres user through runuser
    cluster = await startPg();
    const env = { ...process.env, PGHOST: cluster.dir, PGPORT: String(cluster.port) };
    const { spawnSync } = await import('node:child_process');
    const run = (): string => {
      const r = spawnSync('bash', ['scripts/pg-create-db.sh', 'sixpn_prod', 'sixpn_role'], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      return /^SIXPN_DB_URL=(\S+)$/m.exec(r.stdout)![1]!;
    };
    run();
    const url = run();
    assert.match(url, new RegExp(`^postgres://sixpn_role:[0-9a-f]{48}@127\\.0\\.0\\.1:${cluster.port}/sixpn_prod$`));
    const p = sixpn(['coordinator', '--listen', '127.0.0.1:0'], { SIXPN_DB_URL: url });
    try {
      await p.waitFor(/"store":"postgres".*"msg":"coordinator listening"/);
    } finally {
      await p.kill();
    }
  });
});
