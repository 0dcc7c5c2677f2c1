// `sixpn install-units` into a temp prefix, then the real systemd tools on
// the result: `systemd-analyze verify` (which also checks that ExecStart's
// binary exists and is executable) with the TLS drop-in, the sandbox
// exposure from `systemd-analyze security`, and each ExecStart actually run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandExec, parseEnvFile, unitExec } from '../../src/cli/commands/install-units.js';
import { runCli } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

const UNITS = ['sixpn-agent.service', 'sixpn-coordinator.service', 'sixpn-dns.service'];

describe('systemd units installed by `sixpn install-units`', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof tempDir>;
  let unitDir = '';
  before(() => {
    dir = tempDir('sixpn-units-');
    unitDir = join(dir.path, 'etc/systemd/system');
  });
  const analyze = (...args: string[]): { code: number | null; out: string; err: string } => {
    // SYSTEMD_UNIT_PATH makes verify find the units' drop-ins in the temp tree (the trailing ':' keeps the system paths).
    const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${unitDir}:` } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  after(() => dir?.remove());

  it('installs the units, the TLS drop-in and the example configs (0600), and keeps edited configs', async () => {
    const r = await runCli(['install-units', '--prefix', dir.path, '--tls', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { exec: string; files: { path: string; action: string }[] };
    assert.deepEqual(
      out.files.filter((f) => f.path.endsWith('.service')).map((f) => f.path),
      UNITS.map((u) => join(unitDir, u)),
    );
    assert.ok(out.files.some((f) => f.path === join(unitDir, 'sixpn-coordinator.service.d/tls.conf')));
    for (const env of ['coordinator.env', 'dns.env', 'agent.env']) {
      assert.equal(statSync(join(dir.path, 'etc/sixpn', env)).mode & 0o777, 0o600);
    }
    const unit = readFileSync(join(unitDir, 'sixpn-dns.service'), 'utf8');
    assert.ok(unit.includes(`ExecStart=${out.exec} dns $SIXPN_DNS_OPTS`));

    writeFileSync(join(dir.path, 'etc/sixpn/dns.env'), `${readFileSync(join(dir.path, 'etc/sixpn/dns.env'), 'utf8')}# edited\n`);
    const again = JSON.parse((await runCli(['install-units', '--prefix', dir.path, '--json'])).stdout) as typeof out;
    assert.equal(again.files.find((f) => f.path.endsWith('dns.env'))!.action, 'kept');
    assert.match(readFileSync(join(dir.path, 'etc/sixpn/dns.env'), 'utf8'), /# edited/);
  });

  it('passes `systemd-analyze verify`, drop-in included, without a single warning', () => {
    const r = analyze('verify', ...UNITS.map((u) => join(unitDir, u)));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err.trim(), '', 'no warnings');
    // The check has teeth: a unit whose ExecStart binary is missing fails it.
    const broken = join(dir.path, 'broken.service');
    writeFileSync(broken, readFileSync(join(unitDir, 'sixpn-dns.service'), 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/sixpn'));
    const b = analyze('verify', broken);
    assert.notEqual(b.code, 0);
    assert.match(b.err, /\/nonexistent\/sixpn is not executable/);
  });

  it('keeps the sandboxes tight (`systemd-analyze security`)', () => {
    const scores: Record<string, number> = {};
    for (const u of UNITS) {
      const r = analyze('security', '--offline=true', join(unitDir, u));
      const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.out + r.err);
      assert.ok(m, r.out + r.err);
      scores[u] = Number(m[1]);
    }
    console.log(
      `      exposure (0 best, 10 worst): ${Object.entries(scores)
        .map(([u, s]) => `${u} ${s}`)
        .join(', ')}`,
    );
    assert.ok(scores['sixpn-coordinator.service']! <= 2, 'coordinator: OK level');
    assert.ok(scores['sixpn-dns.service']! <= 2, 'dns: OK level');
  });

  it('runs each ExecStart: a real subcommand that takes the configured flags', async () => {
    for (const u of UNITS) {
      const { exec, envFiles } = unitExec(readFileSync(join(unitDir, u), 'utf8'));
      const env = new Map<string, string>();
      for (const f of envFiles) for (const [k, v] of parseEnvFile(readFileSync(join(dir.path, f), 'utf8'), f)) env.set(k, v.value);
      const [bin, ...args] = expandExec(exec, env, u);
      // `--help` after the unit's own flags: dns and coordinator parse strictly first (a bad flag exits 2).
      const r = spawnSync(bin!, [...args, '--help'], { encoding: 'utf8', env: { ...process.env, ...Object.fromEntries(env) } });
      assert.equal(r.status, 0, `${u}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`usage: sixpn ${args[0]} `));
    }
  });

  it('`install-units --check` accepts the installed config and names file:line of a bad one (exit 2)', async () => {
    const ok = await runCli(['install-units', '--check', '--prefix', dir.path]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^ok {2}sixpn-coordinator\.service: sixpn coordinator --data \/var\/lib\/sixpn\/coordinator --listen 127\.0\.0\.1:4280 --tls-cert \/run\/credentials\/sixpn-coordinator\.service\/tls\.crt/m,
    );
    const envPath = join(dir.path, 'etc/sixpn/agent.env');
    const lines = readFileSync(envPath, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('SIXPN_AGENT_OPTS='));
    lines[at] = 'SIXPN_AGENT_OPTS="--region iad --endpoint 203.0.113.10:51820 --mtu 100"';
    writeFileSync(envPath, lines.join('\n'));
    const bad = await runCli(['install-units', '--check', '--prefix', dir.path]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, `sixpn install-units: ${envPath}:${at + 1} (SIXPN_AGENT_OPTS): --mtu must be an integer in 1280..9000, got "100"\n`);
  });
});
