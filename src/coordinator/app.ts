// The coordinator's HTTP API: fastify, a JSON schema on every input, one error shape.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { answerErrors } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { isExpired } from '../model/auth.js';
import { bearer, requireScope, TokenCache, UsageRecorder } from './auth.js';
import { FeedHub } from './feed-hub.js';
import type { SnapshotBuildsOptions } from './snapshot-builds.js';
import { PeerReaper } from './peer-reaper.js';
import { TokenStreams } from './token-streams.js';
import { coordinatorMetrics } from './metrics.js';
import { openApiRoute, registerOpenApi } from './openapi.js';
import { answer, op } from './responses.js';
import { COMMIT, VERSION } from '../version.js';
import type { Registry } from '../metrics/index.js';
import { appRoutes } from './routes/apps.js';
import { digRoutes } from './routes/dig.js';
import { hostRoutes } from './routes/hosts.js';
import { machineRoutes } from './routes/machines.js';
import { leaseRoutes } from './routes/leases.js';
import { LeaseSweeper } from './lease-sweeper.js';
import { orgRoutes } from './routes/orgs.js';
import { peerRoutes } from './routes/peers.js';
import { tokenRoutes } from './routes/tokens.js';
import { uiRoutes } from './routes/ui.js';

export const BODY_LIMIT = 64 * 1024;

export interface BuildOptions {
  store: Store;
  logger: Logger;
  heartbeatMs?: number;
  drainTimeoutMs?: number;
  /** how watch snapshots are shared, capped and paced */
  snapshot?: SnapshotBuildsOptions;
  https?: { cert: Buffer; key: Buffer };
  /** registry for GET /metrics (a private one when absent) */
  metrics?: Registry;
}

export async function buildCoordinator(opts: BuildOptions): Promise<{ app: FastifyInstance; hub: FeedHub }> {
  const { store, logger } = opts;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    // Per-request lines would drown the feed and agent logs; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: false } },
    ...(opts.https ? { https: opts.https } : {}),
  }) as unknown as FastifyInstance;
  const tokens = new TokenCache(store);
  const usage = new UsageRecorder(store, logger);
  const hub = new FeedHub(store, { logger, heartbeatMs: opts.heartbeatMs, drainTimeoutMs: opts.drainTimeoutMs, snapshot: opts.snapshot });
  await hub.start();
  const tokenStreams = new TokenStreams(store, logger, () => tokens.forget());
  tokenStreams.start();
  const reaper = new PeerReaper(store, hub, logger);
  await reaper.start();

  await registerOpenApi(app); // before every route, so each one is in the spec
  coordinatorMetrics(app, hub, { registry: opts.metrics, store: store.backend.kind });

  app.decorateRequest('token', null);
  app.addHook('onRequest', async (req) => {
    const secret = bearer(req);
    req.token = secret ? await tokens.resolve(secret) : null;
    if (req.token && !isExpired(req.token)) usage.used(req.token.id);
  });

  answerErrors(app, BODY_LIMIT);

  // The store's revision, not the feed's: on PostgreSQL the feed may still be tailing another coordinator's commits.
  app.get(
    '/healthz',
    {
      schema: {
        ...op('meta', 'Liveness, the store revision and how far the watch feed has read', null),
        response: {
          200: answer({
            ok: { type: 'boolean' },
            version: { type: 'string', description: 'the sixpn version (package.json)' },
            commit: { type: ['string', 'null'], description: 'the git commit it was built from' },
            rev: { type: 'integer', description: 'the store revision' },
            feed_rev: { type: 'integer', description: 'the revision the watch feed has reached' },
          }),
          '5xx': { description: 'The store is unavailable', $ref: 'Error#' },
        },
      },
    },
    async () => ({ ok: true, version: VERSION, commit: COMMIT, rev: await store.rev(), feed_rev: hub.revision }),
  );
  openApiRoute(app);

  orgRoutes(app, store);
  appRoutes(app, store);
  hostRoutes(app, store);
  machineRoutes(app, store);
  const sweeper = new LeaseSweeper(store, logger);
  leaseRoutes(app, store, sweeper);
  sweeper.start();
  digRoutes(app, store);
  peerRoutes(app, store);
  tokenRoutes(app, store, { onRevoke: () => tokens.forget(), endStreams: (id) => tokenStreams.revoked([id]) });
  uiRoutes(app, store, hub, { logger, heartbeatMs: opts.heartbeatMs, drainTimeoutMs: opts.drainTimeoutMs, tokenStreams });

  app.get<{ Querystring: { since?: number } }>(
    '/v1/watch',
    {
      schema: {
        ...op(
          'feed',
          "The change feed: a snapshot when since is 0 or too old, then every change in revision order, with heartbeats. A host credential's stream holds every host and only the orgs with a machine or peer on that host, from a snapshot",
          'admin, reader, host',
        ),
        querystring: { type: 'object', properties: { since: { type: 'integer', minimum: 0 } }, additionalProperties: false },
        response: {
          200: {
            description: 'NDJSON: one FeedMessage per line, until the client goes away (a bye line when the coordinator stops)',
            content: { 'application/x-ndjson': { schema: { $ref: 'FeedMessage#' } } },
          },
          '4xx': { description: 'Request refused', $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const token = requireScope(req, 'admin', 'reader', 'host');
      reply.hijack();
      const tracked = tokenStreams.track(token);
      try {
        // The feed protocol the client reads (a request header: an older coordinator ignores it); none means 1.
        const proto = Number.parseInt(String(req.headers['sixpn-feed-proto'] ?? '1'), 10);
        // A host credential's stream: only the orgs its host carries (host-scope.ts). Fails closed: no host, no org.
        const hostId = token.scope === 'host' ? (token.host_id ?? -1) : undefined;
        await hub.serve(reply.raw, req.query.since ?? 0, tracked.signal, Number.isFinite(proto) ? proto : 1, hostId);
      } finally {
        tracked.release();
      }
    },
  );

  app.addHook('preClose', async () => {
    sweeper.close();
    tokenStreams.stop();
    await reaper.stop();
    await hub.close();
    await usage.flush();
  });
  return { app, hub };
}
