// `sixpn dns --ca FILE --insecure --metrics HOST:PORT`: the DNS server's
// feed follows the coordinator TLS policy (src/feed/tls.ts), and /metrics
// exposes queries by type/rcode/transport, their duration and the answer
// cache, counted off the hot path (src/dns/stats.ts). In process (real
// sockets, a fixture replica) and as a process against an HTTPS coordinator
// whose certificate the test makes with openssl.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/run.js';
import { parseDnsArgs } from '../../src/cli/commands/dns.js';
import { dnsMetrics } from '../../src/dns/metrics.js';
import { QTYPE } from '../../src/dns/names.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { DnsStats } from '../../src/dns/stats.js';
import { silentLogger } from '../../src/log.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../../src/metrics/index.js';
import { KEY_A } from '../../testkit/coordinator.js';
import { fixtureReplica, NET_ACME } from '../../testkit/dns-fixture.js';
import { buildQuery, decode, tcpExchange, udpExchange } from '../../testkit/dns-packets.js';
import { tempDir } from '../../testkit/tmp.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Exposition text → { 'name{labels sorted}': value }, so label order never matters. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    const labels = m[2]
      ? m[2]
          .match(/\w+="(?:[^"\\]|\\.)*"/g)!
          .sort()
          .join(',')
      : '';
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await r.text());
}

const q = (qtype: string, rcode: string, transport: string) => `sixpn_dns_queries_total{qtype="${qtype}",rcode="${rcode}",transport="${transport}"}`;

async function until<T>(f: () => Promise<T | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => false as const);
    if (v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sixpn dns --ca / --insecure / --metrics: argument parsing', () => {
  const base = ['--coordinator', 'https://coord.example:4280', '--token', 'T'];
  it('defaults: no CA file, not insecure, no metrics listener', () => {
    const c = parseDnsArgs(base, {});
    assert.deepEqual([c.caFile, c.insecure, c.metrics], [null, false, null]);
  });
  it('takes --ca FILE, --insecure and --metrics HOST:PORT (IPv6 in brackets)', () => {
    const c = parseDnsArgs([...base, '--ca', '/etc/sixpn/ca.pem', '--insecure', '--metrics', '[::1]:9482'], {});
    assert.deepEqual([c.caFile, c.insecure, c.metrics], ['/etc/sixpn/ca.pem', true, { host: '::1', port: 9482 }]);
  });
  for (const [argv, re] of [
    [['--metrics', '9482'], /--metrics "9482" is not HOST:PORT/],
    [['--metrics', '127.0.0.1:99999'], /--metrics/],
    [['--ca'], /--ca/],
    [['--insecure', 'yes'], /positional/],
  ] as [string[], RegExp][]) {
    it(`rejects ${argv.join(' ')}`, () => assert.throws(() => parseDnsArgs([...base, ...argv], {}), re));
  }
});

describe('DNS metrics (in process: real sockets, fixture replica)', () => {
  let server: DnsServer;
  let metrics: MetricsServer;
  const stats = new DnsStats();

  before(async () => {
    server = await startDnsServer({ replica: fixtureReplica(), listen: [{ host: '127.0.0.1', port: 0 }], loopbackNetworkId: NET_ACME, stats });
    const registry = createRegistry();
    dnsMetrics(registry, stats, () => server.engine.cache);
    metrics = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await metrics?.close();
    await server?.close();
  });

  it('counts queries by qtype, rcode and transport, times them, and counts cache hits and misses', async () => {
    const port = server.addresses[0]!.port;
    const ask = async (name: string, type: number, tcp = false) => {
      const msg = buildQuery(name, type);
      const r = tcp ? await tcpExchange('127.0.0.1', port, msg) : await udpExchange('127.0.0.1', port, msg);
      return decode(r!).rcode;
    };
    assert.equal(await ask('web.internal', QTYPE.AAAA), 0);
    assert.equal(await ask('web.internal', QTYPE.AAAA), 0); // a cache hit
    assert.equal(await ask('WEB.internal', QTYPE.AAAA), 0); // case differs: the same entry
    assert.equal(await ask('nosuch.internal', QTYPE.AAAA), 3);
    assert.equal(await ask('_apps.internal', QTYPE.TXT), 0);
    assert.equal(await ask('web.internal', 99), 0); // an unusual type: NODATA, qtype "other"
    assert.equal(await ask('web.internal', QTYPE.AAAA, true), 0);
    assert.equal(await ask('example.com', QTYPE.A), 5); // no upstream: REFUSED
    // A message that is not a query: FORMERR, its type unknown.
    const bad = Buffer.from(buildQuery('web.internal', QTYPE.AAAA));
    bad.writeUInt16BE(2, 4);
    assert.equal(decode((await udpExchange('127.0.0.1', port, bad))!).rcode, 1);

    const s = await scrape(metrics.url);
    assert.equal(s.get(q('AAAA', 'NOERROR', 'udp')), 3);
    assert.equal(s.get(q('AAAA', 'NOERROR', 'tcp')), 1);
    assert.equal(s.get(q('AAAA', 'NXDOMAIN', 'udp')), 1);
    assert.equal(s.get(q('TXT', 'NOERROR', 'udp')), 1);
    assert.equal(s.get(q('other', 'NOERROR', 'udp')), 1);
    assert.equal(s.get(q('A', 'REFUSED', 'udp')), 1);
    assert.equal(s.get(q('none', 'FORMERR', 'udp')), 1);
    const total = [...s].filter(([k]) => k.startsWith('sixpn_dns_queries_total{')).reduce((a, [, v]) => a + v, 0);
    assert.equal(total, 9);
    // Duration: one observation per message, buckets cumulative, +Inf = count.
    const count = s.get('sixpn_dns_query_duration_seconds_count{transport="udp"}')! + s.get('sixpn_dns_query_duration_seconds_count{transport="tcp"}')!;
    assert.equal(count, 9);
    assert.equal(s.get('sixpn_dns_query_duration_seconds_bucket{le="+Inf",transport="udp"}'), 8);
    const udpBuckets = [...s].filter(([k]) => k.startsWith('sixpn_dns_query_duration_seconds_bucket{') && k.includes('transport="udp"')).map(([, v]) => v);
    assert.ok(udpBuckets.length > 10);
    assert.deepEqual(
      [...udpBuckets].sort((a, b) => a - b),
      udpBuckets,
      'cumulative buckets never decrease',
    );
    assert.ok(s.get('sixpn_dns_query_duration_seconds_sum{transport="udp"}')! > 0);
    // web AAAA (udp) missed once then hit twice; TCP shares the entry (hit).
    assert.equal(s.get('sixpn_dns_cache_hits_total'), 3);
    // web AAAA, nosuch AAAA, _apps TXT, web type 99, and example.com (looked up, not cached: not ours)
    assert.equal(s.get('sixpn_dns_cache_misses_total'), 5);
    assert.equal(s.get('sixpn_dns_cache_entries'), 4);
  });

  it('a scrape reports the same totals twice (counters rebuilt from the arrays, not added again)', async () => {
    const a = await scrape(metrics.url);
    const b = await scrape(metrics.url);
    assert.equal(b.get(q('AAAA', 'NOERROR', 'udp')), a.get(q('AAAA', 'NOERROR', 'udp')));
    assert.equal(b.get('sixpn_dns_cache_hits_total'), a.get('sixpn_dns_cache_hits_total'));
  });
});

describe('sixpn dns (process) with --ca, --insecure and --metrics', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof tempDir>;
  let coord: RunningCoordinator;
  let reader = '';
  const children: ChildProcess[] = [];
  const f = (n: string) => join(dir.path, n);

  function sixpn(args: string[]): { child: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> } {
    const child = spawn(process.execPath, [MAIN, 'dns', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SIXPN_API_URL: '', SIXPN_TOKEN: '', NODE_EXTRA_CA_CERTS: '' },
    });
    children.push(child);
    let out = '',
      err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, out: () => out, err: () => err, done };
  }

  before(async function () {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    dir = tempDir('sixpn-dns-tls-');
    const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir.path, stdio: ['ignore', 'ignore', 'pipe'] });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=coordinator');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    );
    coord = await startCoordinator({
      dataDir: f('data'),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      announce: () => undefined,
      tls: { certFile: f('server.pem'), keyFile: f('server.key') },
    });
    await coord.store.ensureOrg('acme');
    await coord.store.enrollHost({ region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: false });
    reader = (await coord.store.createToken({ scope: 'reader' })).token;
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await coord?.close();
    dir?.remove();
  });

  it('--ca: follows an HTTPS coordinator signed by a private CA; /metrics shows the feed and the queries', async () => {
    const p = sixpn([
      '--coordinator',
      coord.url,
      '--token',
      reader,
      '--ca',
      f('ca.pem'),
      '--listen',
      '127.0.0.1:0',
      '--metrics',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ]);
    const line = await until(async () => /serving \.internal on 127\.0\.0\.1:(\d+) .*; metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(p.out()) ?? false);
    const [dnsPort, url] = [Number(line[1]), line[2]!];
    const rev = (await coord.store.snapshot()).rev;
    await until(async () => {
      const s = await scrape(url);
      return s.get('sixpn_dns_feed_revision') === rev && s.get('sixpn_dns_feed_connected') === 1 ? s : false;
    });
    // Loopback is in no network for a plain `sixpn dns`: REFUSED, counted as such.
    for (let i = 0; i < 3; i++) assert.equal(decode((await udpExchange('127.0.0.1', dnsPort, buildQuery('web.internal', QTYPE.AAAA)))!).rcode, 5);
    assert.equal(decode((await tcpExchange('127.0.0.1', dnsPort, buildQuery('_apps.internal', QTYPE.TXT)))!).rcode, 5);
    const s = await scrape(url);
    assert.equal(s.get(q('AAAA', 'REFUSED', 'udp')), 3);
    assert.equal(s.get(q('TXT', 'REFUSED', 'tcp')), 1);
    assert.equal(s.get('sixpn_dns_query_duration_seconds_count{transport="udp"}'), 3);
    for (const name of ['sixpn_dns_cache_hits_total', 'sixpn_dns_cache_misses_total', 'sixpn_dns_feed_snapshots_total', 'process_resident_memory_bytes']) {
      assert.ok(s.has(name), `${name} missing`);
    }
    assert.equal(p.err(), '', 'no warnings: the certificate verified');
    p.child.kill('SIGTERM');
    assert.equal(await p.done, 0);
  });

  it('without --ca the private CA is not trusted: the feed says why and stays disconnected', async () => {
    const p = sixpn(['--coordinator', coord.url, '--token', reader, '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--log-level', 'warn']);
    await until(async () => /does not verify/.test(p.err()) || false);
    const url = /metrics on (\S+)/.exec(p.out())![1]!;
    const s = await scrape(url);
    assert.equal(s.get('sixpn_dns_feed_connected'), 0);
    assert.equal(s.get('sixpn_dns_feed_revision'), 0);
    p.child.kill('SIGTERM');
    assert.equal(await p.done, 0);
  });

  it('--ca with a missing file or one without a certificate: exit 2 naming --ca, nothing served', async () => {
    writeFileSync(f('empty.pem'), 'nothing here\n');
    for (const [file, re] of [
      [f('nosuch.pem'), /--ca .*nosuch\.pem: ENOENT/],
      [f('empty.pem'), /--ca .*empty\.pem: no PEM certificate/],
    ] as const) {
      const p = sixpn(['--coordinator', coord.url, '--token', reader, '--ca', file, '--listen', '127.0.0.1:0']);
      assert.equal(await p.done, 2);
      assert.match(p.err(), re);
      assert.equal(p.err().trim().split('\n').length, 1);
      assert.equal(p.out(), '');
    }
  });

  it('plain HTTP to a non-loopback coordinator: exit 2 unless --insecure', async () => {
    const args = ['--coordinator', 'http://198.51.100.1:4280', '--token', reader, '--listen', '127.0.0.1:0'];
    const refused = sixpn(args);
    assert.equal(await refused.done, 2);
    assert.match(refused.err(), /^sixpn dns: refusing plain HTTP to 198\.51\.100\.1:4280, which is not loopback: .*--insecure/);
    const ok = sixpn([...args, '--insecure', '--log-level', 'silent']);
    await until(async () => /serving \.internal/.test(ok.out()) || false);
    ok.child.kill('SIGTERM');
    assert.equal(await ok.done, 0);
  });

  it('--metrics on a port already taken: exit 1 with one line', async () => {
    const taken = await serveMetrics(createRegistry(), { host: '127.0.0.1', port: 0 });
    try {
      const port = new URL(taken.url).port;
      const p = sixpn(['--coordinator', coord.url, '--token', reader, '--ca', f('ca.pem'), '--listen', '127.0.0.1:0', '--metrics', `127.0.0.1:${port}`]);
      assert.equal(await p.done, 1);
      assert.match(p.err(), new RegExp(`^sixpn dns: cannot serve --metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, 'm'));
    } finally {
      await taken.close();
    }
  });
});
