import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

describe('sixpn coordinator backup FILE (online SQLite backup)', function () {
  this.timeout(90_000);
  const dir = tempDir();
  let coord: Proc | null = null;
  after(async () => {
    await coord?.kill();
    dir.remove();
  });

  it('copies the database of a running coordinator, writes included, while it keeps serving', async () => {
    const data = join(dir.path, 'data');
    coord = sixpn(['coordinator', '--data', data, '--listen', '127.0.0.1:0']);
    const url = (await coord.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]!;
    const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    assert.equal((await api(url, token, 'POST', '/v1/orgs', { name: 'acme' })).status, 201);
    assert.equal((await api(url, token, 'POST', '/v1/apps', { name: 'web', org: 'acme' })).status, 201);

    // Writes keep coming while the backup runs.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        assert.equal((await api(url, token, 'POST', '/v1/orgs', { name: `o${n++}` })).status, 201);
      }
    })();
    const file = join(dir.path, 'backup.db');
    const r = await runCli(['coordinator', 'backup', file, '--data', data]);
    writing = false;
    await writer;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^backup written: ${file} \\(\\d+ bytes, revision \\d+, schema \\d+\\)\\n$`));

    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(db.prepare("SELECT name, org FROM apps WHERE name = 'web'").get(), { name: 'web', org: 'acme' });
      const rev = Number(db.prepare('SELECT rev FROM revision').pluck().get());
      const revs = db.prepare('SELECT rev FROM changes ORDER BY rev').pluck().all() as number[];
      assert.equal(revs[revs.length - 1], rev, 'the copy is consistent at one revision');
      assert.ok((db.prepare('SELECT COUNT(*) FROM orgs').pluck().get() as number) >= 1);
      assert.match(r.stdout, new RegExp(`revision ${rev},`));
    } finally {
      db.close();
    }
    assert.equal((await api(url, token, 'GET', '/v1/orgs/acme')).status, 200, 'the coordinator still serves');
    assert.ok(!existsSync(`${file}.partial`));
  });

  it('refuses to overwrite FILE without --force, a missing database, and PostgreSQL', async () => {
    const file = join(dir.path, 'exists.db');
    writeFileSync(file, 'keep');
    const r = await runCli(['coordinator', 'backup', file, '--data', join(dir.path, 'data')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists; use --force to replace it/);
    assert.equal(readFileSync(file, 'utf8'), 'keep');
    const forced = await runCli(['coordinator', 'backup', file, '--data', join(dir.path, 'data'), '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(forced.stdout).file, file);
    const none = await runCli(['coordinator', 'backup', join(dir.path, 'x.db'), '--data', join(dir.path, 'nowhere')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no coordinator database at/);
    const pg = await runCli(['coordinator', 'backup', join(dir.path, 'x.db'), '--db', 'postgres://x@127.0.0.1/x']);
    assert.equal(pg.code, 2);
    assert.match(pg.stderr, /pg_dump/);
    const usage = await runCli(['coordinator', 'backup', '--data', join(dir.path, 'data')]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^sixpn coordinator: backup needs FILE \(usage: sixpn coordinator \[backup\] \[FILE\]/);
  });
});
