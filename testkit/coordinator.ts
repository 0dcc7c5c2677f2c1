// An in-process coordinator on a real SQLite file, for API and feed tests.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildCoordinator } from '../src/coordinator/app.js';
import type { FeedHub } from '../src/coordinator/feed-hub.js';
import type { SnapshotBuildsOptions } from '../src/coordinator/snapshot-builds.js';
import { silentLogger } from '../src/log.js';
import { SqliteBackend } from '../src/store/sqlite.js';
import { Store } from '../src/store/store.js';
import type { Quotas } from '../src/store/quotas.js';
import { tempDir } from './tmp.js';

export interface TestCoordinator {
  app: FastifyInstance;
  hub: FeedHub;
  store: Store;
  admin: string;
  dir: string;
  /** base URL once listen() was called */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
  /** inject with the admin token unless another is given */
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; json: any }>;
}

export async function testCoordinator(
  opts: {
    heartbeatMs?: number;
    keepChanges?: number;
    drainTimeoutMs?: number;
    quotas?: Partial<Quotas>;
    hostTimeoutMs?: number;
    snapshot?: SnapshotBuildsOptions;
  } = {},
): Promise<TestCoordinator> {
  const dir = tempDir();
  const store = await Store.open(new SqliteBackend(join(dir.path, 'sixpn.db')), {
    keepChanges: opts.keepChanges,
    quotas: opts.quotas,
    // The hosts tests enroll by hand send no heartbeats: unreachable only when a test asks for a timeout.
    hostTimeoutMs: opts.hostTimeoutMs ?? 86_400_000,
  });
  const { token: admin } = await store.createToken({ scope: 'admin' });
  const { app, hub } = await buildCoordinator({
    store,
    logger: silentLogger,
    heartbeatMs: opts.heartbeatMs,
    drainTimeoutMs: opts.drainTimeoutMs,
    snapshot: opts.snapshot,
  });
  const tc: TestCoordinator = {
    app,
    hub,
    store,
    admin,
    dir: dir.path,
    url: '',
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const a = app.server.address();
      tc.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
      return tc.url;
    },
    async close() {
      // undici keeps spare connections that never send a request, and
      // server.close() waits for them forever: cut what is left after the
      // graceful part (streams get their bye line first).
      const cut = setTimeout(() => app.server.closeAllConnections(), 3000);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      await store.close();
      dir.remove();
    },
    async call(method, url, body, token = admin) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : null };
    },
  };
  return tc;
}

export const KEY_A = 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=';
export const KEY_B = 'b3EaZqUa0gQU98BMatlgEmwuvFj9n+KriheY/CEwFU4=';
export const KEY_C = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
