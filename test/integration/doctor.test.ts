// `sixpn doctor` against a real `sixpn up`: the structure of its checks and its
// exit codes (tools absent on the test machine may warn).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

describe('sixpn doctor against `sixpn up`', function () {
  this.timeout(60_000);
  const dir = tempDir();
  const env = { SIXPN_CONFIG: join(dir.path, 'cli.json'), HOME: dir.path, SIXPN_API_URL: '', SIXPN_TOKEN: '', SIXPN_TOKEN_FILE: '', SIXPN_CA: '' };
  const dnsPort = 20000 + Math.floor(Math.random() * 20000);
  let up: Proc | null = null;
  let api = '';
  const cli = (...args: string[]) => runCli(args, env);

  before(async () => {
    up = sixpn(['up', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--dns', `127.0.0.1:${dnsPort}`, '--no-agent'], env);
    api = (await up.waitFor(/API\s+(http:\/\/\S+)/))[1]!;
    await up.waitFor(/sixpn is up/);
  });
  after(async () => {
    await up?.kill('SIGKILL');
    dir.remove();
  });

  it('reports every check as ok, warn or fail with a fix, and exits by the failures', async () => {
    const r = await cli('doctor', '--json', '--dns-port', String(dnsPort));
    const d = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
    assert.equal(r.code, d.ok ? 0 : 1);
    assert.deepEqual(
      d.checks.map((c) => c.name),
      ['wg', 'wireguard-go', 'nft', 'ip', 'resolvconf', 'wireguard-kernel', 'coordinator', 'agent-dns', 'nft-redirect'],
    );
    for (const c of d.checks) {
      assert.ok(['ok', 'warn', 'fail'].includes(c.status), c.name);
      assert.ok(c.detail.length > 0);
      if (c.status !== 'ok') assert.ok(c.fix, `${c.name} says how to fix it`);
    }
    assert.equal(d.checks.find((c) => c.name === 'coordinator')!.status, 'ok');
    const dns = d.checks.find((c) => c.name === 'agent-dns')!;
    assert.equal(dns.status, 'ok', dns.detail);
    assert.match(dns.detail, /_apps\.internal answers/);
    const text = await cli('doctor', '--dns-port', String(dnsPort));
    assert.match(text.stdout, /^(ok|warn|fail)\s+\S+\s+\S/m);
    // problems first
    const statuses = text.stdout
      .split('\n')
      .filter((l) => /^(ok|warn|fail) /.test(l))
      .map((l) => l.split(' ')[0]);
    assert.deepEqual(
      statuses,
      [...statuses].sort((a, b) => ['fail', 'warn', 'ok'].indexOf(a!) - ['fail', 'warn', 'ok'].indexOf(b!)),
    );
  });

  it('fails (exit 1) naming an unreachable coordinator or a refused token', async () => {
    const down = await cli('doctor', '--json', '--api', 'http://127.0.0.1:47', '--token', 'x');
    assert.equal(down.code, 1);
    const c1 = JSON.parse(down.stdout).checks.find((c: { name: string }) => c.name === 'coordinator');
    assert.equal(c1.status, 'fail');
    assert.match(c1.detail, /cannot reach the API at http:\/\/127\.0\.0\.1:47/);
    const refused = await cli('doctor', '--json', '--api', api, '--token', 'nope');
    assert.equal(refused.code, 1);
    const c2 = JSON.parse(refused.stdout).checks.find((c: { name: string }) => c.name === 'coordinator');
    assert.match(c2.detail, /refused the token/);
  });

  it('status: the coordinator and its hosts, problems first', async () => {
    assert.equal((await cli('apps', 'create', 'statusapp', '--org', 'personal')).code, 0);
    assert.equal((await cli('machines', 'create', '--app', 'statusapp', '--region', 'local')).code, 0);
    const r = await cli('status', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(s), ['problems', 'coordinator', 'hosts']);
    assert.equal(s.coordinator.url, api);
    assert.equal(s.coordinator.store, 'sqlite');
    assert.ok(s.coordinator.revision >= 1);
    assert.equal(s.hosts.length, 1);
    assert.equal(s.hosts[0].region, 'local');
    assert.equal(s.hosts[0].status, 'reachable', '`up` heartbeats for its own host');
    assert.ok(s.hosts[0].last_seen);
    assert.equal(s.hosts[0].machines, 1, "the host's machines are counted");
    assert.equal(s.hosts[0].peers, 0);
    assert.equal(s.hosts[0].newest_handshake_s, null);
    const text = await cli('status');
    assert.match(text.stdout, /ID\s+REGION\s+ENDPOINT\s+GATEWAY\s+VERSION\s+STATUS\s+LAST_SEEN\s+MACHINES\s+PEERS\s+NEWEST_HANDSHAKE\n/);
    assert.match(text.stdout, /reachable\s+\S+\s+[01]\/1\s+0\s+-\n/);
    assert.match(text.stdout, /^problems: none\n\ncoordinator  http:\/\/127\.0\.0\.1:\d+  version \S+/);
    const down = await cli('status', '--api', 'http://127.0.0.1:47', '--token', 'x');
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^sixpn status: cannot reach the API at http:\/\/127\.0\.0\.1:47: ECONNREFUSED\n$/);
    const refused = await cli('status', '--api', api, '--token', 'nope');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^sixpn status: .*token.*\n$/);
    const bad = await cli('status', '--bogus');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /usage: sixpn status/);
  });

  it('bad input exits 2 with its usage', async () => {
    for (const args of [
      ['doctor', '--bogus'],
      ['doctor', '--dns-port', 'x'],
      ['doctor', 'extra'],
    ]) {
      const r = await cli(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /usage: sixpn doctor/);
    }
  });
});
