import assert from 'node:assert/strict';
import { parseAgentArgs } from '../../src/cli/commands/agent-args.js';
import { UsageError } from '../../src/cli/errors.js';

const base = ['--coordinator', 'http://127.0.0.1:4280', '--enroll-token', 'T', '--region', 'ams', '--endpoint', '198.51.100.1:51820'];

describe('agent arguments', () => {
  it('defaults', () => {
    const a = parseAgentArgs(base);
    assert.equal(a.iface, 'sixpn0');
    assert.equal(a.mtu, 1280);
    assert.equal(a.listenPort, null);
    assert.equal(a.driver, 'netns');
    assert.equal(a.dnsPort, 5354);
    assert.equal(a.machineApiPort, 4281);
    assert.equal(a.outsideFilter, true);
    assert.equal(a.gateway, false);
    assert.equal(a.stateDir, '/var/lib/sixpn/agent');
  });
  it('everything set', () => {
    const a = parseAgentArgs([
      ...base,
      '--gateway',
      '--iface',
      'wg-x',
      '--listen-port',
      '5000',
      '--state-dir',
      '/tmp/s',
      '--mtu',
      '1420',
      '--dns-port',
      '0',
      '--machine-api-port',
      '0',
      '--dns-upstream',
      '9.9.9.9',
      '--open-port',
      '22/tcp',
      '--no-outside-filter',
      '--log-level',
      'debug',
    ]);
    assert.equal(a.gateway, true);
    assert.equal(a.iface, 'wg-x');
    assert.equal(a.listenPort, 5000);
    assert.equal(a.mtu, 1420);
    assert.equal(a.dnsPort, null);
    assert.equal(a.machineApiPort, null);
    assert.deepEqual(a.dnsUpstreams, [{ host: '9.9.9.9', port: 53 }]);
    assert.deepEqual(a.openPorts, [{ proto: 'tcp', port: 22 }]);
    assert.equal(a.outsideFilter, false);
  });
  it('--no-commands: this host refuses `machines run` commands (default: runs them, sandboxed)', () => {
    assert.equal(parseAgentArgs(base).commands, true);
    assert.equal(parseAgentArgs([...base, '--no-commands']).commands, false);
  });
  it('coordinator transport and metrics', () => {
    const a = parseAgentArgs([...base, '--ca', '/etc/sixpn/ca.pem', '--insecure', '--metrics', '[::1]:9482']);
    assert.equal(a.caFile, '/etc/sixpn/ca.pem');
    assert.equal(a.insecure, true);
    assert.deepEqual(a.metrics, { host: '::1', port: 9482 });
    assert.deepEqual(parseAgentArgs([...base, '--metrics', '127.0.0.1:9482']).metrics, { host: '127.0.0.1', port: 9482 });
    const d = parseAgentArgs(base);
    assert.deepEqual([d.caFile, d.insecure, d.metrics], [null, false, null]);
  });
  it('environment fallbacks', () => {
    const a = parseAgentArgs(['--region', 'ams'], { SIXPN_API_URL: 'http://c:1', SIXPN_ENROLL_TOKEN: 'E' });
    assert.equal(a.coordinator, 'http://c:1');
    assert.equal(a.enrollToken, 'E');
  });
  const bad: [string, string[]][] = [
    ['unknown flag', ['--bogus']],
    ['coordinator not a URL', ['--coordinator', 'c:1']],
    ['endpoint without port', ['--endpoint', '198.51.100.1']],
    ['region not a label', ['--region', 'AMS!']],
    ['interface name too long', ['--iface', 'a-very-long-interface']],
    ['mtu below the IPv6 minimum', ['--mtu', '1200']],
    ['listen port out of range', ['--listen-port', '70000']],
    ['hook driver without hook', ['--driver', 'hook']],
    ['hook without hook driver', ['--hook', '/bin/true']],
    ['unknown driver', ['--driver', 'vm']],
    ['bad open port', ['--open-port', '22']],
    ['bad log level', ['--log-level', 'loud']],
    ['machine API on the DNS port', ['--machine-api-port', '5354']],
    ['machine API port out of range', ['--machine-api-port', '65536']],
    ['metrics without a port', ['--metrics', '127.0.0.1']],
    ['metrics on a name', ['--metrics', 'localhost:9482']],
    ['empty --ca', ['--ca', '']],
  ];
  for (const [name, argv] of bad) {
    it(`usage error: ${name}`, () => {
      assert.throws(
        () => parseAgentArgs(argv),
        (e: unknown) => e instanceof UsageError && !(e as Error).message.includes('\n'),
      );
    });
  }
});
