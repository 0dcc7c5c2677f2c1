// src/cli/flags.ts: one parser per kind of flag value, table-tested.
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/errors.js';
import { duration, endpoint, hostPort, intIn, ipPort, label, logLevel, oneOf, portProto, splitHostPort } from '../../src/cli/flags.js';
import { LOG_LEVELS } from '../../src/log-levels.js';

const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'));

describe('CLI flag values', () => {
  it('HOST:PORT: IPv4, [IPv6], names; ports 0..65535', () => {
    const ok: [string, { host: string; port: number }][] = [
      ['127.0.0.1:4280', { host: '127.0.0.1', port: 4280 }],
      ['[::1]:53', { host: '::1', port: 53 }],
      ['[::]:0', { host: '::', port: 0 }],
      ['localhost:4280', { host: 'localhost', port: 4280 }],
      ['coord.example:443', { host: 'coord.example', port: 443 }],
    ];
    for (const [s, want] of ok) assert.deepEqual(hostPort(s, 'listen'), want, s);
    for (const s of ['127.0.0.1', '::1', '[::1]', ':53', '127.0.0.1:65536', '[nope]:53', 'a b:1', 'host:-1', '-x:1', '::1:53'])
      bad(() => hostPort(s, 'listen'), /^--listen ".*" is not HOST:PORT$/);
  });

  it('IP[:PORT]: never a name; a bare IP takes the default port', () => {
    assert.deepEqual(ipPort('9.9.9.9', 'upstream', 53), { host: '9.9.9.9', port: 53 });
    assert.deepEqual(ipPort('2001:db8::1', 'upstream', 53), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(ipPort('[2001:db8::1]:5300', 'upstream', 53), { host: '2001:db8::1', port: 5300 });
    assert.deepEqual(ipPort('[::1]:9482', 'metrics'), { host: '::1', port: 9482 });
    bad(() => ipPort('dns.example', 'upstream', 53), /^--upstream "dns.example" is not IP\[:PORT\]$/);
    bad(() => ipPort('localhost:9482', 'metrics'), /^--metrics "localhost:9482" is not HOST:PORT \(HOST an IP address/);
    bad(() => ipPort('127.0.0.1', 'metrics'), /is not HOST:PORT/);
    assert.equal(splitHostPort('10.0.0.1', 53)?.port, 53);
  });

  it('endpoints: HOST:PORT with a port 1..65535', () => {
    assert.equal(endpoint('203.0.113.10:51820', 'endpoint'), '203.0.113.10:51820');
    for (const s of ['203.0.113.10', '203.0.113.10:0', 'nope']) bad(() => endpoint(s, 'endpoint'), /^--endpoint ".*" is not HOST:PORT$/);
  });

  it('integers in a range, digits only', () => {
    assert.equal(intIn('1420', 'mtu', 1280, 9000), 1420);
    for (const s of ['100', '9001', '-1', '1e3', '0x500', '', ' 1300'])
      bad(() => intIn(s, 'mtu', 1280, 9000), /^--mtu must be an integer in 1280\.\.9000, got ".*"$/);
  });

  it('durations: 90s, 10m, 24h, 30d (and bare seconds where a flag always took them)', () => {
    const cases: [string, number][] = [
      ['90s', 90],
      ['10m', 600],
      ['24h', 86400],
      ['30d', 2_592_000],
      ['0s', 0],
    ];
    for (const [s, want] of cases) assert.equal(duration(s, 'ttl'), want, s);
    assert.equal(duration('5', 'ttl', { bare: true }), 5);
    bad(() => duration('5', 'ttl'), /^--ttl must be a duration like 90s, 10m, 24h or 30d, at least 0s, got "5"$/);
    for (const s of ['1w', '-1s', '1.5h', 'h', '']) bad(() => duration(s, 'ttl'), /^--ttl must be a duration/);
    bad(() => duration('2d', 'ttl', { hi: 86400 }), /0s\.\.1d, got "2d"/);
    bad(() => duration('30s', 'interval', { lo: 60 }), /at least 1m/);
  });

  it('log levels: the one list in src/log.ts', () => {
    for (const l of LOG_LEVELS) assert.equal(logLevel(l), l);
    bad(() => logLevel('loud'), /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/);
  });

  it('PORT/tcp|udp', () => {
    assert.deepEqual(portProto('22/tcp', 'open-port'), { proto: 'tcp', port: 22 });
    for (const s of ['22', '0/tcp', '70000/udp', '22/sctp']) bad(() => portProto(s, 'open-port'), /^--open-port ".*": expected PORT\/tcp or PORT\/udp$/);
  });

  it('names and choices', () => {
    assert.equal(label('acme', 'org'), 'acme');
    bad(() => label('Acme!', 'org'), /^org "Acme!" is not a DNS label/);
    assert.equal(oneOf('hook', 'driver', ['netns', 'hook']), 'hook');
    bad(() => oneOf('vm', 'driver', ['netns', 'hook']), /^--driver must be one of netns, hook, got "vm"$/);
  });
});
