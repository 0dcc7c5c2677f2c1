// The shipped systemd units and example configs, read as systemd would and
// checked against the CLI's own flag parsers; the env-file and ExecStart
// expansion rules, table-driven.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/errors.js';
import { checkUnit, execCommand, expandExec, packageRoot, parseEnvFile, renderUnit, unitExec } from '../../src/cli/commands/install-units.js';

const ROOT = packageRoot();
const unitText = (name: string): string => readFileSync(join(ROOT, 'systemd', name), 'utf8');
const etc = (name: string): string => readFileSync(join(ROOT, 'etc/sixpn', name), 'utf8');
/** unit directives as a multimap (drop comments) */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}
const shippedEnv = (unit: string): Map<string, { text: string; path: string }> =>
  new Map(unitExec(unitText(unit)).envFiles.map((f) => [f, { text: etc(f.replace('/etc/sixpn/', '')), path: f }]));

describe('systemd units: env files and ExecStart as systemd reads them', () => {
  it('parses EnvironmentFile syntax', () => {
    const env = parseEnvFile(
      ['# comment', '; also a comment', '', 'A=1', 'B="two words"', "C='single'", '  D = spaced  ', 'E=con\\', 'tinued', 'EMPTY='].join('\n'),
      'x.env',
    );
    assert.deepEqual(
      [...env].map(([k, v]) => [k, v.value, v.line]),
      [
        ['A', '1', 4],
        ['B', 'two words', 5],
        ['C', 'single', 6],
        ['D', 'spaced', 7],
        ['E', 'continued', 8],
        ['EMPTY', '', 10],
      ],
    );
  });

  for (const [text, message] of [
    ['A=1\njust words\n', 'x.env:2: not VAR=value: "just words"'],
    ['A="open\n', 'x.env:1: unterminated " quote'],
    ['1A=x\n', 'x.env:1: not VAR=value: "1A=x"'],
  ] as const) {
    it(`names file and line for ${JSON.stringify(text.trim())}`, () => {
      assert.throws(
        () => parseEnvFile(text, 'x.env'),
        (e: unknown) => e instanceof UsageError && e.message === message,
      );
    });
  }

  it('expands $VAR into words, ${VAR} into one, unset to nothing, and the specifiers', () => {
    const env = new Map([
      ['OPTS', '--a 1  --b 2'],
      ['ONE', 'x y'],
    ]);
    assert.deepEqual(expandExec('/usr/bin/sixpn dns $OPTS ${ONE} $UNSET --s %S/sixpn --c %d/k 100%%', env, 'u.service'), [
      '/usr/bin/sixpn',
      'dns',
      '--a',
      '1',
      '--b',
      '2',
      'x y',
      '--s',
      '/var/lib/sixpn',
      '--c',
      '/run/credentials/u.service/k',
      '100%',
    ]);
  });

  it('points ExecStart at this installation, with node when node is not on a service PATH', () => {
    assert.equal(execCommand(undefined, '/opt/sixpn', '/usr/bin/sixpn', '/usr/bin/node'), '/usr/bin/sixpn');
    assert.equal(execCommand(undefined, '/opt/sixpn', '/opt/sixpn/dist/src/cli/main.js', '/usr/bin/node'), '/opt/sixpn/bin/sixpn');
    assert.equal(
      execCommand('/usr/local/bin/sixpn', '/opt/sixpn', '', '/root/.nvm/versions/node/v20/bin/node'),
      '/root/.nvm/versions/node/v20/bin/node /usr/local/bin/sixpn',
    );
    assert.equal(renderUnit('ExecStart=/usr/bin/sixpn dns $X\n', '/opt/n /opt/s'), 'ExecStart=/opt/n /opt/s dns $X\n');
  });
});

describe('systemd units: the shipped ones', () => {
  const units = readdirSync(join(ROOT, 'systemd'))
    .filter((n) => n.endsWith('.service'))
    .sort();

  it('are the three of the design', () => {
    assert.deepEqual(units, ['sixpn-agent.service', 'sixpn-coordinator.service', 'sixpn-dns.service']);
  });

  for (const [unit, sub] of [
    ['sixpn-coordinator.service', 'coordinator'],
    ['sixpn-dns.service', 'dns'],
    ['sixpn-agent.service', 'agent'],
  ] as const) {
    it(`${unit}: ExecStart runs \`sixpn ${sub}\` with flags its parser accepts, under the shipped example config`, async () => {
      const argv = await checkUnit(unit, unitText(unit), shippedEnv(unit));
      assert.equal(argv[0], sub);
    });

    it(`${unit}: restarts on failure with a start limit, reads /etc/sixpn, forbids new privileges`, () => {
      const d = directives(unitText(unit));
      assert.deepEqual(d.get('Restart'), ['on-failure']);
      assert.ok(Number(d.get('RestartSec')?.[0]) >= 1);
      assert.ok(d.get('StartLimitIntervalSec') && d.get('StartLimitBurst'));
      assert.deepEqual(d.get('NoNewPrivileges'), ['yes']);
      assert.deepEqual(d.get('EnvironmentFile'), [`/etc/sixpn/${sub}.env`]);
      assert.match(d.get('ExecStart')![0]!, new RegExp(`^/usr/bin/sixpn ${sub} `));
    });
  }

  it('coordinator and dns: a dynamic user, read-only system, the fewest capabilities', () => {
    const c = directives(unitText('sixpn-coordinator.service'));
    const n = directives(unitText('sixpn-dns.service'));
    for (const d of [c, n]) {
      assert.deepEqual(d.get('DynamicUser'), ['yes']);
      assert.deepEqual(d.get('ProtectSystem'), ['strict']);
    }
    assert.deepEqual(c.get('CapabilityBoundingSet'), ['']);
    assert.deepEqual(c.get('StateDirectory'), ['sixpn/coordinator']);
    assert.deepEqual(n.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(n.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  });

  it('agent: bounded root capabilities with NET_ADMIN, its state directory, and a restart that leaves the mesh up', () => {
    const a = directives(unitText('sixpn-agent.service'));
    const caps = a.get('CapabilityBoundingSet')![0]!.split(' ');
    assert.ok(caps.includes('CAP_NET_ADMIN'));
    assert.ok(!caps.includes('CAP_SYS_MODULE') && !caps.includes('CAP_DAC_OVERRIDE') && !caps.includes('CAP_SYS_PTRACE'));
    assert.deepEqual(a.get('StateDirectory'), ['sixpn/agent']);
    assert.deepEqual(a.get('KillMode'), ['process']);
    assert.equal(a.get('ProtectSystem'), undefined, 'no private mount namespace: netns mounts must be host-wide');
  });

  it('coordinator + the TLS drop-in: --tls-cert/--tls-key from systemd credentials', async () => {
    const text = `${unitText('sixpn-coordinator.service')}\n${etc('coordinator-tls.conf')}`;
    const argv = await checkUnit('sixpn-coordinator.service', text, shippedEnv('sixpn-coordinator.service'));
    assert.deepEqual(argv.slice(-4), [
      '--tls-cert',
      '/run/credentials/sixpn-coordinator.service/tls.crt',
      '--tls-key',
      '/run/credentials/sixpn-coordinator.service/tls.key',
    ]);
  });

  for (const [unit, bad, message] of [
    ['sixpn-dns.service', 'SIXPN_DNS_OPTS="--listen nowhere"', /^\/etc\/sixpn\/dns\.env:\d+ \(SIXPN_DNS_OPTS\): --listen "nowhere" is not HOST:PORT$/],
    ['sixpn-dns.service', 'SIXPN_DNS_OPTS="--bogus"', /^\/etc\/sixpn\/dns\.env:\d+ \(SIXPN_DNS_OPTS\): Unknown option '--bogus'/],
    [
      'sixpn-agent.service',
      'SIXPN_AGENT_OPTS="--region iad --endpoint nope"',
      /^\/etc\/sixpn\/agent\.env:\d+ \(SIXPN_AGENT_OPTS\): --endpoint "nope" is not HOST:PORT$/,
    ],
    ['sixpn-coordinator.service', 'SIXPN_LOG_LEVEL=loud', /^\/etc\/sixpn\/coordinator\.env:\d+ \(SIXPN_LOG_LEVEL\): --log-level must be one of/],
    ['sixpn-coordinator.service', 'SIXPN_DB_URL=mysql://x', /^\/etc\/sixpn\/coordinator\.env:\d+ \(SIXPN_DB_URL\): --db must be a postgres:\/\/ URL/],
  ] as const) {
    it(`${unit}: a bad setting (${bad}) is reported with its file and line`, async () => {
      const env = shippedEnv(unit);
      const [path, file] = [...env][0]!;
      const key = bad.split('=')[0]!;
      const text =
        file.text
          .split('\n')
          .filter((l) => !l.startsWith(`${key}=`))
          .join('\n') + `\n${bad}\n`;
      await assert.rejects(
        checkUnit(unit, unitText(unit), new Map([[path, { ...file, text }]])),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});
