// DNS on more than one core: worker processes answer UDP on the primary's
// socket (real sockets, real forked workers). Every process answers the same,
// changes reach the workers, a killed worker is replaced, close() leaves no
// process and frees the port; `sixpn dns --workers 2` as a process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { QTYPE, RCODE } from '../../src/dns/names.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { DnsStats } from '../../src/dns/stats.js';
import type { Replica } from '../../src/feed/replica.js';
import { KEY_A, testCoordinator } from '../../testkit/coordinator.js';
import { fixtureReplica, NET_ACME, WEB_AMS, WEB_IAD, WEB_SYD, EXT } from '../../testkit/dns-fixture.js';
import { buildQuery, decode, dig, digHeader, udpExchange } from '../../testkit/dns-packets.js';
import { freePort } from '../../testkit/dns-knot.js';
import { until } from '../../testkit/until.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `n` queries at once from one socket; the answers' address sets, by query ID. */
async function burst(port: number, name: string, n: number): Promise<string[]> {
  const sock = dgram.createSocket('udp4');
  const got = new Map<number, string>();
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const done = new Promise<void>((resolve) => {
    sock.on('message', (m) => {
      const d = decode(m);
      assert.equal(d.rcode, RCODE.NOERROR);
      got.set(
        d.id,
        d.answers
          .map((a) => a.data as string)
          .sort()
          .join(' '),
      );
      if (got.size === n) resolve();
    });
  });
  for (let i = 0; i < n; i++) sock.send(buildQuery(name, QTYPE.AAAA, { id: i }), port, '127.0.0.1');
  await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
  sock.close();
  return [...got.values()];
}

describe('dns workers (shared UDP socket)', function () {
  this.timeout(60_000);
  let replica: Replica;
  let server: DnsServer;
  const stats = new DnsStats();
  let port = 0;

  before(async () => {
    replica = fixtureReplica();
    server = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }], loopbackNetworkId: NET_ACME, workers: 3, stats });
    port = server.addresses[0]!.port;
  });
  after(async () => {
    await server?.close();
  });

  it('answers from every process, the same answer, and counts the workers in the metrics', async () => {
    assert.equal(server.workers!.pids.length, 2);
    const all = [WEB_IAD, WEB_AMS, WEB_SYD, EXT]
      .map((m) => m.address)
      .sort()
      .join(' ');
    // The kernel hands each datagram to whichever process reads first: keep asking until the workers have answered some.
    await until(
      async () => {
        for (const set of await burst(port, 'web.internal', 200)) assert.equal(set, all);
        return server.workers!.cache.hits + server.workers!.cache.misses > 0;
      },
      20_000,
      100,
    );
    const c = server.cacheCounts();
    assert.equal(c.hits + c.misses, server.engine.cache.hits + server.engine.cache.misses + server.workers!.cache.hits + server.workers!.cache.misses);
    // workers' query counts reach the primary's counters (reported every second)
    await until(() => stats.count[0]! > server.engine.cache.hits + server.engine.cache.misses, 5000, 100);
  });

  it("applies the feed's changes in every worker", async () => {
    replica.applyChange({ rev: 101, at: '', ops: [{ entity: 'machine', op: 'upsert', data: { ...WEB_AMS, state: 'stopped' } }] });
    const after = [WEB_IAD, WEB_SYD, EXT]
      .map((m) => m.address)
      .sort()
      .join(' ');
    await until(async () => (await burst(port, 'web.internal', 200)).every((s) => s === after), 10_000, 50);
    // and it stays so: no process answers from the old state
    for (let i = 0; i < 3; i++) for (const s of await burst(port, 'web.internal', 200)) assert.equal(s, after);
    replica.applySnapshot(102, fixtureReplica().toState());
    const back = [WEB_IAD, WEB_AMS, WEB_SYD, EXT]
      .map((m) => m.address)
      .sort()
      .join(' ');
    await until(async () => (await burst(port, 'web.internal', 200)).every((s) => s === back), 10_000, 50);
  });

  it('replaces a worker that dies; the others answer meanwhile', async () => {
    const [victim] = server.workers!.pids;
    process.kill(victim!, 'SIGKILL');
    await until(() => !alive(victim!), 5000);
    const r = await udpExchange('127.0.0.1', port, buildQuery('web.internal', QTYPE.AAAA), 2000);
    assert.ok(r && decode(r).answers.length === 4);
    await until(() => server.workers!.pids.length === 2 && !server.workers!.pids.includes(victim!), 10_000, 50);
    for (const pid of server.workers!.pids) assert.ok(alive(pid));
  });

  it('close() ends every worker and frees the port', async () => {
    const pids = server.workers!.pids;
    await server.close();
    for (const pid of pids) await until(() => !alive(pid), 5000);
    const again = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port }], loopbackNetworkId: NET_ACME });
    await again.close();
  });

  it('refuses a worker count that is not a positive integer', async () => {
    for (const workers of [0, -1, 1.5]) {
      await assert.rejects(startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }], workers }), /workers must be a positive integer/);
    }
  });
});

describe('sixpn dns --workers 2 (process)', function () {
  this.timeout(60_000);

  it('serves from the feed and stops with its workers on SIGTERM', async () => {
    const c = await testCoordinator({ heartbeatMs: 200 });
    await c.listen();
    const port = await freePort();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A });
    const reader = (await c.call('POST', '/v1/tokens', { scope: 'reader' })).json.token as string;
    const p = spawn(
      process.execPath,
      [MAIN, 'dns', '--coordinator', c.url, '--token', reader, '--listen', `127.0.0.1:${port}`, '--workers', '2', '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIXPN_API_URL: '', SIXPN_TOKEN: '' } },
    );
    try {
      let stderr = '';
      p.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const done = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
      // loopback is in no network for `sixpn dns`: REFUSED once fed, from either process
      await until(
        async () =>
          (await dig('127.0.0.1', port, 'web.internal', 'AAAA').then(
            (o) => digHeader(o).status,
            () => '',
          )) === 'REFUSED',
        20_000,
        100,
      );
      const pids = [...stderr.matchAll(/"worker":(\d+),"msg":"dns worker serving"/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 1, stderr);
      for (let i = 0; i < 20; i++) assert.equal(digHeader(await dig('127.0.0.1', port, `x${i}.web.internal`, 'AAAA')).status, 'REFUSED');
      p.kill('SIGTERM');
      assert.equal(await done, 0, stderr);
      for (const pid of pids) await until(() => !alive(pid), 5000);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      await c.close();
    }
  });
});
