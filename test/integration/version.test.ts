import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoordinatorApi } from '../../src/client/api.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { createRegistry, render } from '../../src/metrics/index.js';
import { COMMIT, userAgent, VERSION } from '../../src/version.js';
import { KEY_A, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { runCli, sixpn } from '../../testkit/proc.js';
import { until } from '../../testkit/until.js';

const ROOT = new URL('../../../', import.meta.url);
const PKG_VERSION = (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string }).version;

/** A loopback server that records the headers of every request and answers 503. */
async function recorder(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable","message":"test"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('one version', () => {
  let tc: TestCoordinator;
  before(async () => {
    tc = await testCoordinator();
    await tc.listen();
  });
  after(() => tc.close());

  it("is package.json's version, with the git commit of the build when there is one", () => {
    assert.equal(VERSION, PKG_VERSION);
    if (existsSync(new URL('.git', ROOT))) {
      const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      assert.equal(COMMIT, head, 'dist/src/build-info.json is written by `npm run build`');
    }
  });

  it('sixpn --version and sixpn version [--json] print it', async () => {
    const short = await runCli(['--version']);
    assert.equal(short.code, 0, short.stderr);
    assert.equal(short.stdout, `sixpn ${PKG_VERSION}\n`);
    const long = await runCli(['version']);
    assert.equal(long.code, 0, long.stderr);
    assert.deepEqual(long.stdout.split('\n').slice(0, 2), [`sixpn ${PKG_VERSION}`, `commit ${COMMIT ?? 'unknown'}`]);
    const j = await runCli(['version', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const v = JSON.parse(j.stdout) as { version: string; commit: string | null; node: string };
    assert.deepEqual([v.version, v.commit, v.node], [PKG_VERSION, COMMIT, process.versions.node]);
    const bad = await runCli(['version', '--frob']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /usage: sixpn version/);
  });

  it('GET /healthz and sixpn_build_info carry it (coordinator, and every registry the DNS server and agent make)', async () => {
    const h = await tc.call('GET', '/healthz', undefined, null);
    assert.equal(h.status, 200);
    assert.equal(h.json.version, PKG_VERSION);
    assert.equal(h.json.commit, COMMIT);
    const line = `sixpn_build_info{version="${PKG_VERSION}",commit="${COMMIT ?? 'unknown'}"} 1`;
    assert.ok((await tc.app.inject({ method: 'GET', url: '/metrics' })).body.includes(line));
    assert.ok(
      (await render(createRegistry({ labels: { component: 'dns' } }))).body.includes(
        `sixpn_build_info{version="${PKG_VERSION}",commit="${COMMIT ?? 'unknown'}",component="dns"} 1`,
      ),
    );
  });

  it("is the User-Agent of the CLI, the DNS server's feed and the agent's calls", async () => {
    const rec = await recorder();
    try {
      await runCli(['orgs', 'list', '--api', rec.url, '--token', 'x']);
      const dns = sixpn(['dns', '--coordinator', rec.url, '--token', 'x', '--listen', '127.0.0.1:0']);
      try {
        await until(() => rec.seen.some((h) => String(h['user-agent']).startsWith('sixpn-dns/')), 20_000);
      } finally {
        await dns.kill();
      }
      const feed = new FeedClient({ url: rec.url, token: 'x', replica: new Replica(), userAgent: 'sixpn-agent/test' });
      feed.start();
      await until(() => rec.seen.some((h) => h['user-agent'] === 'sixpn-agent/test'));
      await feed.stop();
      await new CoordinatorApi(rec.url, 'x', 10_000, {}, userAgent('agent')).updateHost(1, { version: '1.2.3' }).catch(() => undefined);
    } finally {
      await rec.close();
    }
    const agents = rec.seen.map((h) => String(h['user-agent']));
    const build = COMMIT ? `${PKG_VERSION}+${COMMIT}` : PKG_VERSION;
    for (const part of ['cli', 'dns', 'agent']) {
      assert.ok(agents.includes(`sixpn-${part}/${build} node/${process.versions.node}`), `${part}: ${agents.join(', ')}`);
    }
  });

  it('hosts report theirs at enrollment and later; hosts list shows it', async () => {
    const e = await tc.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A, version: '0.0.9+abc' });
    assert.equal(e.status, 201);
    assert.equal(e.json.host.version, '0.0.9+abc');
    const id = e.json.host.id as number;
    const rev = (await tc.call('GET', '/healthz')).json.rev as number;
    const same = await tc.call('PATCH', `/v1/hosts/${id}`, { version: '0.0.9+abc' }, e.json.credential);
    assert.equal(same.status, 200);
    assert.equal((await tc.call('GET', '/healthz')).json.rev, rev, 'the same version again writes no revision');
    const up = await tc.call('PATCH', `/v1/hosts/${id}`, { version: PKG_VERSION }, e.json.credential);
    assert.equal(up.status, 200);
    assert.equal(up.json.host.version, PKG_VERSION);
    assert.equal((await tc.call('PATCH', `/v1/hosts/${id}`, { version: 'not a version!' }, e.json.credential)).status, 400);
    const list = await runCli(['hosts', 'list', '--api', tc.url, '--token', tc.admin]);
    assert.equal(list.code, 0, list.stderr);
    const [head, row] = list.stdout.trim().split('\n');
    assert.match(head!, /^ID\s+REGION\s+ENDPOINT\s+GATEWAY\s+VERSION\s+PUBLIC_KEY\s+STATUS\s+LAST_SEEN$/);
    assert.match(row!, new RegExp(`^${id}\\s+iad\\s+192\\.0\\.2\\.1:51820\\s+false\\s+${PKG_VERSION.replace(/\./g, '\\.')}\\s+`));
    assert.match(row!, /\sreachable\s+\d{4}-\d\d-\d\dT/, 'status and last heartbeat (enrollment counts)');
  });
});
