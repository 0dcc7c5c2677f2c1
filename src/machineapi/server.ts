// The machine API a host serves to its own machines (reached at
// http://[fdaa:N:N::3]/ through an nft redirect, like DNS). No token: the
// caller is the machine whose address the request comes from. That source is
// trustworthy because the host drops packets whose source is not the
// attachment's own address, and the redirect keeps the source. A machine can
// read its app's machines and change only its own metadata, at a limited
// rate (a token bucket per machine: each write is a global revision).
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Replica } from '../feed/replica.js';
import type { Machine } from '../model/types.js';
import { AppError, answerErrors } from '../errors.js';
import { RULES } from '../validate.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_WRITE_RATE, retryAfterSeconds, TokenBuckets, type RateOptions } from './rate-limit.js';
import { leaseRoutes, type LeaseClient } from './leases.js';
import { serveWatch } from './watch.js';

export interface MetadataWriter {
  /** Persist through the coordinator (the host credential may change its own machines only); `ifMatch`: only at that metadata revision. */
  set(machineId: string, key: string, value: string | null, ifMatch?: number): Promise<Machine>;
}

export interface MachineApiOptions {
  replica: Replica;
  /** this host: only its own machines are served */
  hostId: number;
  writer: MetadataWriter;
  /** leases through the coordinator (absent: the lease routes answer 404) */
  leases?: LeaseClient;
  logger?: Logger;
  /** metadata writes per machine (default 10/s, burst 20); reads are not limited */
  writeRate?: RateOptions;
}

/** The started machine on this host whose address is `source`, or null. Pure. */
export function machineForSource(machines: Iterable<Machine>, hostId: number, source: string | undefined): Machine | null {
  if (!source) return null;
  const addr = normalize(source);
  for (const m of machines) {
    if (m.host_id === hostId && m.address === addr && m.state !== 'destroyed') return m;
  }
  return null;
}

function normalize(source: string): string {
  // IPv4-mapped sources never match a machine; fdaa addresses arrive compressed already.
  return source.toLowerCase().replace(/^::ffff:/, '');
}

/** What a machine may see of another machine. */
function publicView(m: Machine): Record<string, unknown> {
  return { id: m.id, app: m.app, region: m.region, address: m.address, state: m.state, group: m.group, metadata: m.metadata };
}

const BODY_LIMIT = 4096;

export function buildMachineApi(o: MachineApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.logger ?? silentLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
  }) as unknown as FastifyInstance;
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // `curl -X PUT -d primary URL` sends this type: take the body as the value (or `value=…`).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    done(null, /^value=/.test(text) ? (new URLSearchParams(text).get('value') ?? '') : text);
  });

  const self = (req: FastifyRequest): Machine => {
    const m = machineForSource(o.replica.machines.values(), o.hostId, req.socket.remoteAddress);
    if (!m) throw new AppError('forbidden', `${req.socket.remoteAddress ?? 'this address'} is not a machine on this host`);
    return m;
  };
  /** The :id in the path must be the caller itself. */
  const own = (req: FastifyRequest<{ Params: { id: string } }>): Machine => {
    const m = self(req);
    if (req.params.id !== m.id && req.params.id !== 'self')
      throw new AppError('forbidden', `machine ${m.id} may change only its own metadata, not ${req.params.id}'s`);
    return m;
  };
  const buckets = new TokenBuckets(o.writeRate ?? DEFAULT_WRITE_RATE);
  /** The caller may write (own metadata) and has a token left, else 403 / 429 with Retry-After. */
  const mayWrite = (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Machine => {
    const m = req.params.id ? own(req) : self(req);
    const waitMs = buckets.take(m.id);
    if (waitMs > 0) {
      const rate = o.writeRate ?? DEFAULT_WRITE_RATE;
      void reply.header('retry-after', String(retryAfterSeconds(waitMs)));
      throw new AppError('rate_limited', `machine ${m.id} writes metadata too fast (limit ${rate.perSecond}/s, burst ${rate.burst}); retry in ${waitMs} ms`);
    }
    return m;
  };
  const valueOf = (body: unknown): string => {
    const v = typeof body === 'string' ? body.trim() : (body as { value?: unknown } | null)?.value;
    if (typeof v !== 'string' || !RULES.metadataValue.test(v))
      throw new AppError('invalid', `value must be ${RULES.metadataValue.hint}, as {"value": "..."} or a plain body`);
    return v;
  };
  const keyOf = (key: string): string => {
    if (!RULES.metadataKey.test(key)) throw new AppError('invalid', RULES.metadataKey.explain(key));
    return key;
  };

  answerErrors(app, BODY_LIMIT);

  app.get('/v1/self', async (req) => publicView(self(req)));
  // before /v1/machines/:id/… so `watch` is not taken for an id
  const watching = new Set<ServerResponse>();
  app.get('/v1/machines/watch', async (req, reply) => {
    const me = self(req);
    reply.hijack();
    watching.add(reply.raw);
    reply.raw.once('close', () => watching.delete(reply.raw));
    serveWatch(reply.raw, o.replica, me.app);
  });
  app.addHook('onClose', async () => {
    for (const res of watching) res.end();
  });
  if (o.leases)
    leaseRoutes(app, {
      replica: o.replica,
      leases: o.leases,
      self,
      mayWrite: (req, reply) => mayWrite(req as FastifyRequest<{ Params: { id: string } }>, reply),
    });
  /** If-Match on metadata writes: the metadata revision the caller last read (412 when it moved on). */
  const ifMatch = (req: FastifyRequest): number | undefined => {
    const h = req.headers['if-match'];
    if (h === undefined) return undefined;
    const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(String(h));
    if (!m) throw new AppError('invalid', `If-Match must be a metadata revision such as "3" (see the ETag of GET /v1/self/metadata), got ${JSON.stringify(h)}`);
    return Number(m[1]);
  };
  const etag = (m: Machine): string => `"${m.metadata_rev ?? 0}"`;
  app.get('/v1/machines', async (req) => {
    const me = self(req);
    return { machines: [...o.replica.machines.values()].filter((m) => m.app === me.app).map(publicView) };
  });

  for (const base of ['/v1/self/metadata', '/v1/machines/:id/metadata']) {
    app.get<{ Params: { id: string } }>(base, async (req, reply) => {
      const m = req.params.id ? own(req) : self(req);
      void reply.header('etag', etag(m));
      return m.metadata;
    });
    app.get<{ Params: { id: string; key: string } }>(`${base}/:key`, async (req) => {
      const m = req.params.id ? own(req) : self(req);
      const v = m.metadata[keyOf(req.params.key)];
      if (v === undefined) throw new AppError('not_found', `metadata key ${JSON.stringify(req.params.key)} not set`);
      return { key: req.params.key, value: v };
    });
    const write = async (req: FastifyRequest<{ Params: { id: string; key: string } }>, reply: FastifyReply) => {
      const m = mayWrite(req, reply);
      const updated = await o.writer.set(m.id, keyOf(req.params.key), valueOf(req.body), ifMatch(req));
      void reply.header('etag', etag(updated));
      return updated.metadata;
    };
    app.put(`${base}/:key`, write);
    app.post(`${base}/:key`, write);
    app.delete<{ Params: { id: string; key: string } }>(`${base}/:key`, async (req, reply) => {
      const m = mayWrite(req, reply);
      const updated = await o.writer.set(m.id, keyOf(req.params.key), null, ifMatch(req));
      void reply.header('etag', etag(updated));
      return updated.metadata;
    });
  }
  return app;
}
