// `GET /ui`: the live dashboard. The page and its assets are public (they hold
// no data); every byte of data comes from `GET /v1/ui/stream` with a bearer token.
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/store.js';
import { UI_STREAM_PATH } from '../../ui/protocol.js';
import { requireScope } from '../auth.js';
import { ERRORS, op } from '../responses.js';
import type { FeedHub } from '../feed-hub.js';
import type { TokenStreams } from '../token-streams.js';
import { UiStreams } from '../ui/stream.js';

/** Built by `npm run build` (scripts/build-ui.mjs) into dist/ui, beside dist/src. */
const ASSET_DIR = new URL('../../../ui/', import.meta.url);

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'land.svg': 'image/svg+xml',
};

// No inline script or style, nothing from elsewhere; the token only ever travels in a header.
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The built files, read once; missing ones answer 503 naming the fix. */
function loadAssets(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) {
    const url = new URL(name, ASSET_DIR);
    if (existsSync(url)) out.set(name, readFileSync(url));
  }
  return out;
}

export interface UiRouteOptions {
  logger: Logger;
  heartbeatMs?: number;
  drainTimeoutMs?: number;
  /** ends a stream when its token is revoked or expires */
  tokenStreams?: TokenStreams;
}

export function uiRoutes(app: FastifyInstance, store: Store, hub: FeedHub, opts: UiRouteOptions): UiStreams {
  const assets = loadAssets();
  const streams = new UiStreams(store, hub, { logger: opts.logger, heartbeatMs: opts.heartbeatMs, drainTimeoutMs: opts.drainTimeoutMs });

  const send = (reply: FastifyReply, name: string): FastifyReply => {
    const body = assets.get(name);
    if (!body) throw new AppError('unavailable', `dashboard asset ${name} is not built: run npm run build`);
    return reply
      .code(200)
      .headers({ ...HEADERS, 'content-type': FILES[name]! })
      .send(body);
  };

  const text = (type: string): Record<string, unknown> => ({ [type]: { schema: { type: 'string' } } });
  app.get(
    '/ui',
    {
      schema: {
        ...op('ui', 'The dashboard page (holds no data)', null),
        response: { 200: { description: 'The page', content: text('text/html') }, ...ERRORS },
      },
    },
    async (_req, reply) => send(reply, 'index.html'),
  );
  // A relative asset URL must resolve under /ui/, whichever form was typed.
  app.get(
    '/ui/',
    { schema: { ...op('ui', 'Redirects to /ui', null), response: { 301: { description: 'Moved to /ui', type: 'null' } } } },
    async (_req, reply) => reply.redirect('/ui', 301),
  );
  app.get<{ Params: { file: string } }>(
    '/ui/:file',
    {
      schema: {
        ...op('ui', 'A dashboard asset: app.js, app.css or land.svg', null),
        params: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
        response: { 200: { description: 'The asset', content: { ...text('text/javascript'), ...text('text/css'), ...text('image/svg+xml') } }, ...ERRORS },
      },
    },
    async (req, reply) => {
      if (!(req.params.file in FILES) || req.params.file === 'index.html') throw new AppError('not_found', `no dashboard asset ${req.params.file}`);
      return send(reply, req.params.file);
    },
  );

  app.get(
    UI_STREAM_PATH,
    {
      schema: {
        ...op(
          'ui',
          "The dashboard's live stream: hello, a scoped snapshot with peer reports, then scoped changes",
          'admin, reader (everything), org (its org and the hosts carrying it)',
        ),
        response: {
          200: { description: 'NDJSON: one UiMessage per line', content: { 'application/x-ndjson': { schema: { $ref: 'UiMessage#' } } } },
          '4xx': ERRORS['4xx'],
        },
      },
    },
    async (req, reply) => {
      const token = requireScope(req, 'admin', 'reader', 'org');
      reply.hijack();
      const tracked = opts.tokenStreams?.track(token);
      try {
        await streams.serve(reply.raw, token, tracked?.signal);
      } finally {
        tracked?.release();
      }
    },
  );

  app.addHook('preClose', async () => {
    await streams.close();
  });
  return streams;
}
