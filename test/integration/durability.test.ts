import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

// A writer in its own process: it prints each machine id the API acknowledged with a 2xx.
const WRITER = `
const [url, token] = process.argv.slice(1);
(async () => {
  for (;;) {
    let res;
    try {
      res = await fetch(url + '/v1/machines', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify({ app: 'web', region: 'iad' }) });
    } catch { process.exit(0); }
    if (res.status !== 201) process.exit(3);
    const j = await res.json();
    process.stdout.write(j.machine.id + '\\n');
  }
})();
`;

describe('durability: kill -9 of the coordinator', function () {
  this.timeout(60_000);
  const dir = tempDir();
  let coord: Proc | null = null;
  after(async () => {
    await coord?.kill('SIGKILL');
    dir.remove();
  });

  async function start(listen: string): Promise<string> {
    coord = sixpn(['coordinator', '--data', dir.path, '--listen', listen]);
    const m = await coord.waitFor(/"url":"(http:\/\/[^"]+)"/);
    return m[1]!;
  }

  it('keeps every acknowledged write, with no revision gap, and the feed resumes', async () => {
    const url = await start('127.0.0.1:0');
    const token = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    assert.equal((await api(url, token, 'POST', '/v1/orgs', { name: 'acme' })).status, 201);
    await api(url, token, 'POST', '/v1/apps', { name: 'web', org: 'acme' });
    await api(url, token, 'POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=' });

    const replica = new Replica();
    const feed = new FeedClient({ url, token, replica, minBackoffMs: 50, maxBackoffMs: 200 });
    feed.start();
    await until(() => replica.ready);
    let snapshots = 0;
    replica.subscribe((u) => {
      if (u.ops === null) snapshots++;
    });

    const writer = spawn(process.execPath, ['-e', WRITER, url, token], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = '';
    writer.stdout!.on('data', (d: Buffer) => {
      acked += d.toString();
    });
    await until(() => acked.split('\n').length > 300);
    coord!.child.kill('SIGKILL');
    await coord!.exited;
    const code = await new Promise<number | null>((r) => writer.on('exit', r));
    assert.equal(code, 0, 'the writer only stops when the coordinator is gone');
    const ids = acked.split('\n').filter(Boolean);

    // On disk, before any restart: the revision sequence is contiguous and ends at the head.
    const db = new Database(join(dir.path, 'sixpn.db'), { readonly: true });
    const revs = db.prepare('SELECT rev FROM changes ORDER BY rev').pluck().all() as number[];
    const head = db.prepare('SELECT rev FROM revision').pluck().get() as number;
    db.close();
    assert.equal(revs[revs.length - 1], head);
    revs.forEach((r, i) => assert.equal(r, revs[0]! + i, `gap before rev ${r}`));

    const port = new URL(url).port;
    const url2 = await start(`127.0.0.1:${port}`);
    for (const id of ids) assert.equal((await api(url2, token, 'GET', `/v1/machines/${id}`)).status, 200, `acknowledged machine ${id} lost`);
    await api(url2, token, 'POST', '/v1/machines', { app: 'web', region: 'iad' });
    await until(() => replica.rev === head + 1);
    for (const id of ids) assert.ok(replica.machines.has(id));
    assert.equal(snapshots, 0, 'the feed resumed from its revision, without a new snapshot');
    await feed.stop();
  });
});
