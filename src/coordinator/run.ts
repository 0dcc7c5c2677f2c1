// Open the store, make sure an admin token exists, serve the API.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import { createRegistry } from '../metrics/index.js';
import type { PostgresOptions } from '../store/postgres.js';
import { SqliteBackend } from '../store/sqlite.js';
import { Store } from '../store/store.js';
import type { Quotas } from '../store/quotas.js';
import { buildCoordinator } from './app.js';
import { trackConnections } from './drain.js';
import type { FeedHub } from './feed-hub.js';

export interface CoordinatorOptions {
  /** data dir for the embedded SQLite (and admin.token) */
  dataDir?: string;
  /** postgres://… for several coordinators on one database */
  dbUrl?: string;
  host: string;
  port: number;
  logger: Logger;
  tls?: { certFile: string; keyFile: string };
  heartbeatMs?: number;
  /** print the bootstrap admin token on stdout (once, when it is made) */
  announce?: (line: string) => void;
  /** PostgreSQL connection retries at start (attempts, backoff) */
  dbConnect?: PostgresOptions;
  /** on close, requests still running after this are cut (default 15 s) */
  drainTimeoutMs?: number;
  /** a host silent this long is unreachable (default 60 s) */
  hostTimeoutMs?: number;
  /** per-org quotas (unset ones keep their defaults) */
  quotas?: Partial<Quotas>;
}

export interface RunningCoordinator {
  app: FastifyInstance;
  store: Store;
  hub: FeedHub;
  url: string;
  adminToken: string | null;
  close(): Promise<void>;
}

export async function openStore(opts: {
  dataDir?: string;
  dbUrl?: string;
  logger?: Logger;
  dbConnect?: PostgresOptions;
  quotas?: Partial<Quotas>;
  hostTimeoutMs?: number;
}): Promise<Store> {
  const storeOpts = { quotas: opts.quotas, hostTimeoutMs: opts.hostTimeoutMs };
  if (opts.dbUrl) {
    const { PostgresBackend } = await import('../store/postgres.js');
    const backend = await PostgresBackend.connect(opts.dbUrl, { logger: opts.logger, ...opts.dbConnect });
    try {
      return await Store.open(backend, storeOpts);
    } catch (err) {
      await backend.close().catch(() => undefined); // an open pool would keep the process alive
      throw err;
    }
  }
  if (!opts.dataDir) throw new Error('either a data dir or a database URL is needed');
  const backend = new SqliteBackend(join(opts.dataDir, 'sixpn.db'));
  try {
    return await Store.open(backend, storeOpts);
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
}

/** The bootstrap admin token: made at first start, written to <data>/admin.token (0600). */
async function ensureAdminToken(store: Store, dataDir: string | undefined, announce: (l: string) => void): Promise<string | null> {
  const file = dataDir ? join(dataDir, 'admin.token') : null;
  if (await store.hasAdminToken()) {
    return file && existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  }
  const { token } = await store.createToken({ scope: 'admin' });
  if (file) {
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  announce(`admin token (shown once${file ? `, saved to ${file}` : ''}): ${token}`);
  return token;
}

export async function startCoordinator(opts: CoordinatorOptions): Promise<RunningCoordinator> {
  const https = opts.tls ? { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) } : undefined;
  const store = await openStore(opts);
  let app: FastifyInstance | null = null;
  let hub: FeedHub;
  let adminToken: string | null;
  let conns: ReturnType<typeof trackConnections>;
  try {
    adminToken = await ensureAdminToken(store, opts.dataDir, opts.announce ?? ((l) => process.stdout.write(`${l}\n`)));
    const metrics = createRegistry({ defaultMetrics: true });
    ({ app, hub } = await buildCoordinator({ store, logger: opts.logger, https, heartbeatMs: opts.heartbeatMs, metrics }));
    conns = trackConnections(app.server);
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    // Nothing may stay open (a PostgreSQL pool, a half-built server): the process must be able to exit.
    await app?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  const server = app;
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${https ? 'https' : 'http'}://${hostPart === '0.0.0.0' ? '127.0.0.1' : hostPart === '[::]' ? '[::1]' : hostPart}:${port}`;
  return {
    app: server,
    store,
    hub,
    url,
    adminToken,
    // Graceful: watch streams get their `bye` line, in-flight requests finish
    // (their writes are committed and answered), idle connections close, then the store.
    async close() {
      const closing = server.close();
      conns.drain();
      const deadline = setTimeout(() => {
        opts.logger.warn({ open: conns.size }, 'shutdown: cutting connections still open');
        conns.destroyAll();
      }, opts.drainTimeoutMs ?? 15_000);
      try {
        await closing;
      } finally {
        clearTimeout(deadline);
      }
      await store.close();
    },
  };
}
