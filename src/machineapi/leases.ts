// Leases on the machine API: `PUT|DELETE /v1/self/leases/NAME` and
// `GET /v1/leases/NAME`. The caller is the machine its source address names,
// so it can only ever hold or read leases of its own app: the coordinator is
// asked for that machine's app, and no route takes another app or machine.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Replica } from '../feed/replica.js';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.js';
import type { Lease, Machine } from '../model/types.js';
import { isLeaseName, LEASE_TTL_MAX, LEASE_TTL_MIN, RULES } from '../validate.js';

export interface LeaseClient {
  acquireLease(machineId: string, name: string, ttl: number): Promise<{ lease: Lease }>;
  releaseLease(machineId: string, name: string): Promise<{ lease: Lease }>;
  readLease(machineId: string, name: string): Promise<{ lease: Lease }>;
}

/** The answer's shape: `{name, holder, expires_at, fence}` (and the app). */
export const leaseView = (l: Lease): Record<string, unknown> => ({ name: l.name, holder: l.holder, expires_at: l.expires_at, fence: l.fence, app: l.app });

export function leaseName(name: string): string {
  if (!isLeaseName(name)) throw new AppError('invalid', `lease name ${JSON.stringify(name)} must be ${RULES.label.hint}`);
  return name;
}

export function leaseTtl(body: unknown): number {
  const ttl = (body as { ttl?: unknown } | null)?.ttl;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < LEASE_TTL_MIN || ttl > LEASE_TTL_MAX) {
    throw new AppError(
      'invalid',
      `body must be {"ttl": SECONDS} with an integer ttl in ${LEASE_TTL_MIN}..${LEASE_TTL_MAX}, got ${JSON.stringify(body ?? null)}`,
    );
  }
  return ttl;
}

/** Resolves when the replica shows `id` holding (or not holding) `name`, or after `ms`. */
function replicaShowsLease(replica: Replica, id: string, name: string, held: boolean, ms: number): Promise<void> {
  const shows = (): boolean => (replica.machines.get(id)?.leases ?? []).includes(name) === held;
  if (shows()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      unsubscribe();
      resolve();
    };
    const t = setTimeout(done, ms);
    const unsubscribe = replica.subscribe(() => {
      if (shows()) done();
    });
  });
}

/** A 409 from the coordinator carries the lease and its holder: pass both on. */
async function passOn(reply: FastifyReply, call: () => Promise<{ lease: Lease }>): Promise<Lease | null> {
  try {
    return (await call()).lease;
  } catch (err) {
    const e = err as { status?: number; code?: string; message?: string; body?: { error?: { message?: string }; lease?: Lease } };
    if (e.status === 409 && e.body?.lease) {
      await reply.code(409).send({ error: { code: 'conflict', message: e.body.error?.message ?? 'held by another machine' }, ...leaseView(e.body.lease) });
      return null;
    }
    if (e.status !== undefined && e.status < 500 && e.code !== undefined && Object.hasOwn(ERROR_STATUS, e.code))
      throw new AppError(e.code as ErrorCode, String(e.body?.error?.message ?? e.message));
    throw new AppError('unavailable', `coordinator: ${String(e.message ?? err)}`);
  }
}

export interface LeaseRouteOptions {
  replica: Replica;
  leases: LeaseClient;
  /** the calling machine (reads) */
  self(req: FastifyRequest): Machine;
  /** the calling machine, within its write rate (acquire, renew, release) */
  mayWrite(req: FastifyRequest, reply: FastifyReply): Machine;
  waitMs?: number;
}

export function leaseRoutes(app: FastifyInstance, o: LeaseRouteOptions): void {
  const wait = o.waitMs ?? 2000;
  app.put<{ Params: { name: string } }>('/v1/self/leases/:name', async (req, reply) => {
    const name = leaseName(req.params.name);
    const ttl = leaseTtl(req.body);
    const me = o.mayWrite(req, reply);
    const lease = await passOn(reply, () => o.leases.acquireLease(me.id, name, ttl));
    if (!lease) return reply;
    await replicaShowsLease(o.replica, me.id, name, true, wait); // this host's DNS answers NAME.lease at once
    return leaseView(lease);
  });
  app.delete<{ Params: { name: string } }>('/v1/self/leases/:name', async (req, reply) => {
    const name = leaseName(req.params.name);
    const me = o.mayWrite(req, reply);
    const lease = await passOn(reply, () => o.leases.releaseLease(me.id, name));
    if (!lease) return reply;
    await replicaShowsLease(o.replica, me.id, name, false, wait);
    return leaseView(lease);
  });
  app.get<{ Params: { name: string } }>('/v1/leases/:name', async (req, reply) => {
    const name = leaseName(req.params.name);
    const me = o.self(req);
    const lease = await passOn(reply, () => o.leases.readLease(me.id, name));
    return lease ? leaseView(lease) : reply;
  });
}
