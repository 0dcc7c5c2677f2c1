// Health reports and app-wide leases. Machines reach these through their
// host's machine API (the host credential acts for its own machines only);
// an operator may read a lease and, with an admin token, act for a machine.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { Lease, Machine } from '../../model/types.js';
import type { Store } from '../../store/store.js';
import { LEASE_TTL_MAX, LEASE_TTL_MIN } from '../../validate.js';
import { caller, requireOrg } from '../auth.js';
import type { LeaseSweeper } from '../lease-sweeper.js';
import { answer, ERRORS, op, responses } from '../responses.js';
import { body, label, machineId, params } from '../schemas.js';

const leaseParams = params({ id: machineId, name: label });
/** 200 with the lease, or 409 with the error and (when another machine holds it) the lease as it stands. */
const leaseAnswers = {
  200: answer({ lease: 'Lease' }),
  409: {
    description: 'Another machine holds the lease',
    type: 'object',
    properties: {
      error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
      lease: { $ref: 'Lease#' },
    },
    required: ['error'],
    additionalProperties: false,
  },
  ...ERRORS,
};

/** The machine, if the caller may act for it: the host carrying it, or admin. */
async function actingFor(req: FastifyRequest, store: Store, id: string): Promise<Machine> {
  const t = caller(req);
  const m = await store.getMachine(id);
  if (t.scope === 'admin' || (t.scope === 'host' && t.host_id === m.host_id)) return m;
  throw new AppError('forbidden', 'only the host carrying the machine acts for it');
}

function heldBy(lease: Lease): string {
  return `lease ${JSON.stringify(lease.name)} of app ${lease.app} is held by machine ${lease.holder} until ${lease.expires_at} (fence ${lease.fence})`;
}

export function leaseRoutes(app: FastifyInstance, store: Store, sweeper: LeaseSweeper): void {
  app.put<{ Params: { id: string }; Body: { health: 'passing' | 'critical' } }>(
    '/v1/machines/:id/health',
    {
      schema: {
        ...op('machines', "The carrying host reports the outcome of a machine's checks (a revision only when it flips)", 'host (own machines), admin'),
        params: params({ id: machineId }),
        body: body({ health: { type: 'string', enum: ['passing', 'critical'] } }, ['health']),
        response: responses(answer({ machine: 'Machine' })),
      },
    },
    async (req) => {
      const m = await actingFor(req, store, req.params.id);
      return { machine: await store.reportMachineHealth(m.host_id, m.id, req.body.health) };
    },
  );

  app.put<{ Params: { id: string; name: string }; Body: { ttl: number } }>(
    '/v1/machines/:id/leases/:name',
    {
      schema: {
        ...op('leases', 'Acquire or renew the app-wide lease NAME for the machine (409 while another machine holds it)', 'host (own machines), admin'),
        params: leaseParams,
        body: body({ ttl: { type: 'integer', minimum: LEASE_TTL_MIN, maximum: LEASE_TTL_MAX, description: 'seconds' } }, ['ttl']),
        response: leaseAnswers,
      },
    },
    async (req, reply) => {
      const m = await actingFor(req, store, req.params.id);
      const w = await store.acquireLease(m.id, req.params.name, req.body.ttl);
      if (!w.held) return reply.code(409).send({ error: { code: 'conflict', message: heldBy(w.lease) }, lease: w.lease });
      if (w.lease.expires_at) sweeper.at(Date.parse(w.lease.expires_at));
      return { lease: w.lease };
    },
  );

  app.delete<{ Params: { id: string; name: string } }>(
    '/v1/machines/:id/leases/:name',
    {
      schema: {
        ...op('leases', 'Release the lease NAME if the machine holds it (409 while another machine holds it)', 'host (own machines), admin'),
        params: leaseParams,
        response: leaseAnswers,
      },
    },
    async (req, reply) => {
      const m = await actingFor(req, store, req.params.id);
      const w = await store.releaseLease(m.id, req.params.name);
      if (!w.held) return reply.code(409).send({ error: { code: 'conflict', message: heldBy(w.lease) }, lease: w.lease });
      return { lease: w.lease };
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/v1/machines/:id/leases/:name',
    {
      schema: {
        ...op('leases', "Read the lease NAME of the machine's app (holder null when free)", 'admin, org (own org), host (own machines)'),
        params: leaseParams,
        response: responses(answer({ lease: 'Lease' })),
      },
    },
    async (req) => {
      const t = caller(req);
      const m = await store.getMachine(req.params.id);
      if (t.scope === 'host') {
        if (t.host_id !== m.host_id) throw new AppError('forbidden', `machine ${m.id} is not on this host`);
      } else requireOrg(req, m.org);
      return { lease: await store.readLease(m.app, req.params.name) };
    },
  );
}
