// `sixpn dns` argument parsing: defaults, repeated flags, usage errors.
import assert from 'node:assert/strict';
import { DEFAULT_LISTEN, parseDnsArgs } from '../../src/cli/commands/dns.js';
import { parseIpPort as parseHostPort } from '../../src/cli/flags.js';

describe('sixpn dns arguments', () => {
  const base = ['--coordinator', 'http://127.0.0.1:4280', '--token', 'T'];

  it('defaults: loopback listen on port 53, no upstream, TTL 5', () => {
    const c = parseDnsArgs(base, {});
    assert.deepEqual(c.listen, DEFAULT_LISTEN);
    assert.deepEqual(c.listen, [
      { host: '127.0.0.1', port: 53 },
      { host: '::1', port: 53 },
    ]);
    assert.deepEqual(c.upstreams, []);
    assert.equal(c.ttl, 5);
    assert.equal(c.logLevel, 'info');
  });

  it('repeated --listen and --upstream, IPv6 in brackets, default upstream port 53', () => {
    const c = parseDnsArgs(
      [
        ...base,
        '--listen',
        '[::]:5353',
        '--listen',
        '0.0.0.0:5353',
        '--upstream',
        '192.0.2.53',
        '--upstream',
        '[2001:db8::53]:5300',
        '--upstream',
        '2001:db8::1',
        '--ttl',
        '30',
        '--log-level',
        'debug',
      ],
      {},
    );
    assert.deepEqual(c.listen, [
      { host: '::', port: 5353 },
      { host: '0.0.0.0', port: 5353 },
    ]);
    assert.deepEqual(c.upstreams, [
      { host: '192.0.2.53', port: 53 },
      { host: '2001:db8::53', port: 5300 },
      { host: '2001:db8::1', port: 53 },
    ]);
    assert.equal(c.ttl, 30);
    assert.equal(c.logLevel, 'debug');
  });

  it('takes the coordinator and token from the environment', () => {
    const c = parseDnsArgs([], { SIXPN_API_URL: 'https://coord.example:4280', SIXPN_TOKEN: 'X' });
    assert.equal(c.coordinator, 'https://coord.example:4280');
    assert.equal(c.token, 'X');
  });

  it('--workers: one process by default, N on request', () => {
    assert.equal(parseDnsArgs(base, {}).workers, 1);
    assert.equal(parseDnsArgs([...base, '--workers', '2'], {}).workers, 2);
  });

  const bad: [string[], RegExp][] = [
    [[...base, '--workers', '0'], /--workers must be an integer in 1\.\.64, got "0"/],
    [[...base, '--workers', 'two'], /--workers must be an integer in 1\.\.64/],
    [[...base, '--workers', '65'], /--workers must be an integer in 1\.\.64/],
    [[], /--coordinator URL is required/],
    [['--coordinator', 'http://x'], /--token T is required/],
    [['--coordinator', 'ftp://x', '--token', 'T'], /http\(s\) URL/],
    [[...base, '--listen', '127.0.0.1'], /--listen "127.0.0.1" is not HOST:PORT/],
    [[...base, '--listen', '127.0.0.1:70000'], /is not HOST:PORT/],
    [[...base, '--upstream', 'dns.example'], /--upstream "dns.example" is not IP\[:PORT\]/],
    [[...base, '--upstream', 'dns.example:53'], /is not IP\[:PORT\]/],
    [[...base, '--ttl', '-1'], /--ttl/],
    [[...base, '--log-level', 'loud'], /--log-level/],
    [[...base, '--bogus'], /Unknown option '--bogus'/],
    [[...base, 'extra'], /positional/],
  ];
  for (const [argv, re] of bad)
    it(`rejects ${argv.slice(base.length > argv.length ? 0 : 4).join(' ') || '(nothing)'}`, () => assert.throws(() => parseDnsArgs(argv, {}), re));

  it('parses IP[:PORT] forms', () => {
    assert.deepEqual(parseHostPort('[::1]:53'), { host: '::1', port: 53 });
    assert.deepEqual(parseHostPort('::1', 53), { host: '::1', port: 53 });
    assert.deepEqual(parseHostPort('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353 });
    assert.deepEqual(parseHostPort('10.0.0.1', 53), { host: '10.0.0.1', port: 53 });
    assert.equal(parseHostPort('::1'), null);
    assert.equal(parseHostPort('[::1]'), null);
    assert.equal(parseHostPort('[nope]:53'), null);
    assert.equal(parseHostPort('dns.example:53', 53), null);
    assert.equal(parseHostPort('10.0.0.1:99999'), null);
  });
});
