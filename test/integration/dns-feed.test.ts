// DNS fed by a real coordinator over HTTP (/v1/watch): machines started and
// stopped through the API are answered and gone within one second; with the
// coordinator gone answers continue from the last state; when it comes back
// (same data, same port) the feed resumes from its revision, no snapshot.
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/run.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { QTYPE } from '../../src/dns/names.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica, type ReplicaUpdate } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import { KEY_A } from '../../testkit/coordinator.js';
import { tempDir } from '../../testkit/tmp.js';
import { buildQuery, decode, udpExchange } from '../../testkit/dns-packets.js';

async function waitFor(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('dns fed by the coordinator', () => {
  const dir = tempDir('sixpn-dns-feed-');
  let coord: RunningCoordinator;
  let apiPort: number;
  let admin: string;
  let replica: Replica;
  let feed: FeedClient;
  let dns: DnsServer;
  let dnsPort: number;

  const startCoord = (port: number): Promise<RunningCoordinator> =>
    startCoordinator({ dataDir: dir.path, host: '127.0.0.1', port, logger: silentLogger, heartbeatMs: 200, announce: () => undefined });

  /** One API call on its own connection (no keep-alive holding the coordinator's close). */
  function api(method: string, path: string, body?: unknown): Promise<any> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: apiPort,
          path,
          method,
          agent: false,
          headers: {
            authorization: `Bearer ${admin}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => {
            const json = text ? JSON.parse(text) : null;
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
            else resolve(json);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function addresses(name: string): Promise<string[]> {
    const res = await udpExchange('127.0.0.1', dnsPort, buildQuery(name, QTYPE.AAAA), 1000);
    if (!res) return ['<no answer>'];
    return decode(res)
      .answers.map((a) => a.data as string)
      .sort();
  }

  before(async () => {
    coord = await startCoord(0);
    apiPort = Number(new URL(coord.url).port);
    admin = coord.adminToken!;
    await api('POST', '/v1/orgs', { name: 'acme' });
    await api('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await api('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A });
    const reader = (await api('POST', '/v1/tokens', { scope: 'reader' })).token as string;
    replica = new Replica();
    dns = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }], loopbackOrg: 'acme' });
    dnsPort = dns.addresses[0]!.port;
    feed = new FeedClient({ url: coord.url, token: reader, replica, minBackoffMs: 50, maxBackoffMs: 300 });
    feed.start();
    await waitFor('first snapshot', async () => replica.ready, 5000);
  });
  after(async () => {
    await feed?.stop();
    await dns?.close();
    await coord?.close();
    dir.remove();
  });

  it('answers a machine started through the API within 1 s, and drops it within 1 s of a stop', async () => {
    const m = (await api('POST', '/v1/machines', { app: 'web', region: 'iad' })).machine;
    assert.equal(m.state, 'started');
    await waitFor('started machine answered', async () => (await addresses('web.internal')).includes(m.address), 1000);
    await api('POST', `/v1/machines/${m.id}/stop`);
    await waitFor('stopped machine gone', async () => !(await addresses('web.internal')).includes(m.address), 1000);
    await api('POST', `/v1/machines/${m.id}/start`);
    await waitFor('restarted machine answered', async () => (await addresses(`${m.id}.vm.web.internal`)).includes(m.address), 1000);
  });

  it('keeps answering with the coordinator gone, and resumes from its revision when it is back', async () => {
    const before = await addresses('web.internal');
    assert.ok(before.length >= 1);
    await coord.close();
    await waitFor('feed notices', async () => !feed.connected, 5000);
    for (let i = 0; i < 5; i++) assert.deepEqual(await addresses('web.internal'), before);

    const snapshots: number[] = [];
    const onUpdate = (u: ReplicaUpdate): void => {
      if (u.ops === null) snapshots.push(u.rev);
    };
    const unsubscribe = replica.subscribe(onUpdate);
    try {
      coord = await startCoord(apiPort);
      const m2 = (await api('POST', '/v1/machines', { app: 'web', region: 'iad' })).machine;
      await waitFor('change after the restart answered', async () => (await addresses('web.internal')).includes(m2.address), 10_000);
      assert.deepEqual(await addresses('web.internal'), [...before, m2.address].sort());
      assert.deepEqual(snapshots, [], 'resumed from its revision, without a new snapshot');
    } finally {
      unsubscribe();
    }
  });
});
