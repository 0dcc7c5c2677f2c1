// The coordinator's HTTP API: fastify, a JSON schema on every input, one error shape.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { AppError, errorBody } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { bearer, requireScope, TokenCache } from './auth.js';
import { FeedHub } from './feed-hub.js';
import { coordinatorMetrics } from './metrics.js';
import type { Registry } from '../metrics/index.js';
import { appRoutes } from './routes/apps.js';
import { hostRoutes } from './routes/hosts.js';
import { machineRoutes } from './routes/machines.js';
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
  https?: { cert: Buffer; key: Buffer };
  /** registry for GET /metrics (a private one when absent) */
  metrics?: Registry;
}

const STATUS_CODE: Record<number, string> = { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'too_large', 415: 'invalid', 422: 'unprocessable' };

/** Unique-constraint violations that slipped past the explicit checks (concurrent writers). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
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
  const hub = new FeedHub(store, { logger, heartbeatMs: opts.heartbeatMs, drainTimeoutMs: opts.drainTimeoutMs });
  await hub.start();

  coordinatorMetrics(app, hub, { registry: opts.metrics, store: store.backend.kind });

  app.decorateRequest('token', null);
  app.addHook('onRequest', async (req) => {
    const secret = bearer(req);
    req.token = secret ? await tokens.resolve(secret) : null;
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) return reply.code(err.status).send(errorBody(err.code, err.message));
    if ((err as FastifyError).validation) return reply.code(400).send(errorBody('invalid', err.message));
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('too_large', `request body is larger than ${BODY_LIMIT} bytes`));
    if (isUniqueViolation(err)) return reply.code(409).send(errorBody('conflict', 'already exists'));
    const status = (err as FastifyError).statusCode ?? 500;
    if (status < 500) return reply.code(status).send(errorBody(STATUS_CODE[status] ?? 'invalid', err.message));
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  // The store's revision, not the feed's: on PostgreSQL the feed may still be tailing another coordinator's commits.
  app.get('/healthz', async () => ({ ok: true, rev: await store.rev(), feed_rev: hub.revision }));

  orgRoutes(app, store);
  appRoutes(app, store);
  hostRoutes(app, store);
  machineRoutes(app, store);
  peerRoutes(app, store);
  tokenRoutes(app, store, () => tokens.forget());
  uiRoutes(app, store, hub, { logger, heartbeatMs: opts.heartbeatMs, drainTimeoutMs: opts.drainTimeoutMs });

  app.get<{ Querystring: { since?: number } }>('/v1/watch', {
    schema: { querystring: { type: 'object', properties: { since: { type: 'integer', minimum: 0 } }, additionalProperties: false } },
  }, async (req, reply) => {
    requireScope(req, 'admin', 'reader', 'host');
    reply.hijack();
    await hub.serve(reply.raw, req.query.since ?? 0);
  });

  app.addHook('preClose', async () => { await hub.close(); });
  return { app, hub };
}
