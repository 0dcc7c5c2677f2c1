// Prometheus metrics: the coordinator's GET /metrics, and the shared helpers
// (src/metrics) the DNS server and the agent build theirs with.
import assert from 'node:assert/strict';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/run.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import { createRegistry, feedMetrics, serveMetrics, type MetricsServer } from '../../src/metrics/index.js';
import { KEY_A } from '../../testkit/coordinator.js';
import { tempDir } from '../../testkit/tmp.js';
import { openWatch } from '../../testkit/watch.js';
import { until } from '../../testkit/until.js';

/** Exposition text → { 'name{a="b",…}': value } (labels as printed). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<{ type: string | null; series: Map<string, number> }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type'), series: parse(await res.text()) };
}

describe('metrics', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof tempDir>;
  let c: RunningCoordinator;
  let token = '';
  const api = async (method: string, path: string, body?: unknown): Promise<number> => {
    const res = await fetch(`${c.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const req = (route: string, method: string, status: number): string =>
    `sixpn_coordinator_http_requests_total{route="${route}",method="${method}",status="${status}"}`;

  before(async () => {
    dir = tempDir('sixpn-metrics-');
    c = await startCoordinator({ dataDir: dir.path, host: '127.0.0.1', port: 0, logger: silentLogger, announce: () => undefined });
    token = c.adminToken!;
  });
  after(async () => {
    try {
      await c?.close();
    } finally {
      dir?.remove();
    }
  });

  it('exposes requests, latency, revision, watchers and process series as Prometheus text', async () => {
    assert.equal(await api('POST', '/v1/orgs', { name: 'acme' }), 201);
    const { type, series } = await scrape(`${c.url}/metrics`);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(series.get(req('/v1/orgs', 'POST', 201)), 1);
    assert.equal(series.get('sixpn_coordinator_http_request_duration_seconds_count{route="/v1/orgs",method="POST"}'), 1);
    assert.ok(series.has('sixpn_coordinator_http_request_duration_seconds_bucket{le="0.005",route="/v1/orgs",method="POST"}'));
    assert.equal(series.get('sixpn_coordinator_revision'), 1);
    assert.equal(series.get('sixpn_coordinator_watchers'), 0);
    assert.equal(series.get('sixpn_coordinator_info{store="sqlite"}'), 1);
    assert.ok((series.get('process_cpu_seconds_total') ?? 0) > 0, 'default process metrics');
    assert.ok(series.has('nodejs_eventloop_lag_seconds'));
  });

  it('moves the counters: by route template (never raw ids), method and status', async () => {
    const before = (await scrape(`${c.url}/metrics`)).series;
    assert.equal(await api('POST', '/v1/orgs', { name: 'beta' }), 201);
    assert.equal(await api('POST', '/v1/orgs', { name: 'beta' }), 409);
    assert.equal(await api('GET', '/v1/machines/0123456789abcd'), 404);
    assert.equal(await api('GET', '/v1/no/such/route'), 404);
    assert.equal(await api('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A }), 201);
    const after = (await scrape(`${c.url}/metrics`)).series;
    const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    assert.equal(delta(req('/v1/orgs', 'POST', 409)), 1);
    assert.equal(delta(req('/v1/orgs', 'POST', 201)), 1);
    assert.equal(delta(req('/v1/machines/:id', 'GET', 404)), 1);
    assert.equal(delta(req('unmatched', 'GET', 404)), 1);
    assert.equal(delta(req('/v1/hosts', 'POST', 201)), 1);
    assert.equal(delta(req('/metrics', 'GET', 200)), 1, 'the previous scrape is counted too');
    assert.equal(delta('sixpn_coordinator_http_request_duration_seconds_count{route="/v1/orgs",method="POST"}'), 2);
    assert.ok(![...after.keys()].some((k) => k.includes('0123456789abcd')));
    assert.equal(delta('sixpn_coordinator_revision'), 2, 'two writes went through');
  });

  it('counts open watch streams and the watch requests, without timing them', async () => {
    const w = await openWatch(c.url, token, 0); // since=0: a snapshot first, so the stream opens at once
    await until(async () => (await scrape(`${c.url}/metrics`)).series.get('sixpn_coordinator_watchers') === 1);
    w.close();
    await until(async () => (await scrape(`${c.url}/metrics`)).series.get('sixpn_coordinator_watchers') === 0);
    await until(async () => (await scrape(`${c.url}/metrics`)).series.get(req('/v1/watch', 'GET', 200)) === 1);
    const { series } = await scrape(`${c.url}/metrics`);
    assert.ok(![...series.keys()].some((k) => k.startsWith('sixpn_coordinator_http_request_duration_seconds') && k.includes('/v1/watch')));
  });

  it('gives feed consumers (DNS, agent) their series through feedMetrics + serveMetrics', async () => {
    const registry = createRegistry({ labels: { component: 'test' } });
    const replica = new Replica();
    const feed = new FeedClient({ url: c.url, token, replica, minBackoffMs: 50 });
    feedMetrics(registry, feed, replica, 'sixpn_test_feed');
    let server: MetricsServer | null = null;
    try {
      server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      feed.start();
      await until(() => replica.ready);
      const rev = replica.rev;
      assert.equal(await api('POST', '/v1/orgs', { name: 'gamma' }), 201);
      await until(() => replica.rev === rev + 1);
      const { series } = await scrape(server.url);
      assert.equal(series.get('sixpn_test_feed_revision{component="test"}'), rev + 1);
      assert.equal(series.get('sixpn_test_feed_connected{component="test"}'), 1);
      assert.equal(series.get('sixpn_test_feed_snapshots_total{component="test"}'), 1);
      assert.equal(series.get('sixpn_test_feed_changes_total{component="test"}'), 1);
      assert.equal(series.get('sixpn_test_feed_apply_lag_seconds_count{component="test"}'), 1);
      assert.ok((series.get('sixpn_test_feed_last_message_age_seconds{component="test"}') ?? -1) >= 0);
      assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await feed.stop();
      await server?.close();
    }
  });
});
