// GET /metrics for the coordinator: requests by route, method and status, a
// latency histogram, the current revision, the number of open watch streams
// and the watch snapshots being built and waited for.
import type { FastifyInstance } from 'fastify';
import { counter, createRegistry, gaugeFn, histogram, prom, render, type Registry } from '../metrics/index.js';
import type { FeedHub } from './feed-hub.js';

const WATCH = '/v1/watch';

export interface CoordinatorMetricsOptions {
  registry?: Registry;
  /** 'sqlite' | 'postgres', exported as a label of sixpn_coordinator_info */
  store: string;
}

/** Register the hooks and the route; call before any other route is declared. */
export function coordinatorMetrics(app: FastifyInstance, hub: FeedHub, opts: CoordinatorMetricsOptions): Registry {
  const registry = opts.registry ?? createRegistry();
  const requests = counter(registry, 'sixpn_coordinator_http_requests_total', 'HTTP requests answered, by route template, method and status', [
    'route',
    'method',
    'status',
  ]);
  const latency = histogram(
    registry,
    'sixpn_coordinator_http_request_duration_seconds',
    'Time to answer an HTTP request (watch streams excluded), by route template and method',
    ['route', 'method'],
  );
  gaugeFn(registry, 'sixpn_coordinator_revision', 'Newest revision this coordinator has read from the store', () => hub.revision);
  gaugeFn(registry, 'sixpn_coordinator_watchers', 'Open /v1/watch streams', () => hub.watcherCount);
  let builds = 0;
  new prom.Counter({
    name: 'sixpn_coordinator_snapshot_builds_total',
    help: 'Watch snapshots built (each one read and serialized once, shared by the watchers that waited for it)',
    registers: [registry],
    collect() {
      const n = hub.snapshots.started;
      this.inc(n - builds);
      builds = n;
    },
  });
  gaugeFn(registry, 'sixpn_coordinator_snapshot_builds_active', 'Watch snapshots being streamed now (at most the build cap)', () => hub.snapshots.active);
  gaugeFn(
    registry,
    'sixpn_coordinator_snapshot_waiting',
    'Watchers waiting for the next snapshot build to start (gathering, or queued behind the cap)',
    () => hub.snapshots.waiting,
  );
  const info = new prom.Gauge({
    name: 'sixpn_coordinator_info',
    help: 'Constant 1, labelled with the store backend',
    labelNames: ['store'],
    registers: [registry],
  });
  info.set({ store: opts.store }, 1);

  // The route template, never the raw URL: ids in paths would explode the label set.
  const routeOf = (url: string | undefined): string => url ?? 'unmatched';
  app.addHook('onRequest', async (req, reply) => {
    // A watch stream is hijacked and usually ends with the client going away,
    // which fires no onResponse: count it when its socket closes, and never
    // time it (its "latency" is the stream's lifetime).
    if (routeOf(req.routeOptions.url) !== WATCH) return;
    reply.raw.once('close', () => requests.inc({ route: WATCH, method: req.method, status: String(reply.raw.statusCode) }));
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = routeOf(req.routeOptions.url);
    if (route === WATCH) return;
    requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    latency.observe({ route, method: req.method }, reply.elapsedTime / 1000);
  });
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['meta'],
        summary: 'Prometheus metrics',
        description: 'No token needed.',
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_req, reply) => {
      const { contentType, body } = await render(registry);
      return reply.type(contentType).send(body);
    },
  );
  return registry;
}
