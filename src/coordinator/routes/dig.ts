// GET /v1/orgs/:org/dig: an org's .internal answered through the API, with
// the DNS servers' lookup core, so it works from anywhere, with no tunnel.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { dig, DIG_TYPES, type DigType } from '../../dns/dig.js';
import { requireOrg } from '../auth.js';
import { label, params } from '../schemas.js';
import { answer, op, responses } from '../responses.js';

const rec = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'ttl', 'data'],
  properties: { name: { type: 'string' }, type: { type: 'string' }, ttl: { type: 'integer' }, data: { type: 'string' } },
};

export function digRoutes(app: FastifyInstance, store: Store): void {
  app.get<{ Params: { org: string }; Querystring: { name: string; type?: DigType; network?: string } }>(
    '/v1/orgs/:org/dig',
    {
      schema: {
        ...op('dns', "Look a name up in the org's .internal as one of its machines would (the DNS servers' lookup)", 'admin, org (own)'),
        params: params({ org: label }),
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9._-]+$' },
            type: { type: 'string', enum: [...DIG_TYPES] },
            network: label,
          },
        },
        response: responses(
          answer({
            name: { type: 'string' },
            type: { type: 'string' },
            status: { type: 'string', enum: ['NOERROR', 'NXDOMAIN', 'REFUSED', 'SERVFAIL'] },
            answers: { type: 'array', items: rec },
            authority: { type: 'array', items: rec },
          }),
        ),
      },
    },
    async (req) => {
      requireOrg(req, req.params.org);
      await store.getOrg(req.params.org);
      const networks = await store.listNetworks(req.params.org);
      const want = req.query.network ?? 'default';
      const net = networks.find((n) => n.name === want);
      if (!net) throw new AppError('not_found', `org ${req.params.org} has no network ${want}`);
      return dig(await store.snapshot(), net.id, req.query.name, req.query.type ?? 'AAAA');
    },
  );
}
