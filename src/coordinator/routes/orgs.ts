import type { FastifyInstance } from 'fastify';
import { requireOrg, requireScope } from '../auth.js';
import { body, label, params } from '../schemas.js';
import { answer, answerList, op, responses } from '../responses.js';
import type { Store } from '../../store/store.js';

export function orgRoutes(app: FastifyInstance, store: Store): void {
  app.get(
    '/v1/regions',
    {
      schema: { ...op('orgs', 'List regions', 'any'), response: responses(answerList('regions', 'Region')) },
    },
    async (req) => {
      requireScope(req, 'admin', 'org', 'wireguard', 'host-enroll', 'reader', 'host');
      return { regions: await store.listRegions() };
    },
  );

  app.post<{ Body: { name: string } }>(
    '/v1/orgs',
    {
      schema: {
        ...op('orgs', 'Create an org and its default network', 'admin'),
        body: body({ name: label }, ['name']),
        response: responses(answer({ org: 'Org', network: 'Network' }, 'Created'), 201),
      },
    },
    async (req, reply) => {
      requireScope(req, 'admin');
      const { org, network } = await store.createOrg(req.body.name);
      return reply.code(201).send({ org, network });
    },
  );

  app.get(
    '/v1/orgs',
    {
      schema: { ...op('orgs', 'List orgs (an org token sees its own)', 'admin, org'), response: responses(answerList('orgs', 'Org')) },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'org');
      const orgs = await store.listOrgs();
      return { orgs: t.scope === 'admin' ? orgs : orgs.filter((o) => o.name === t.org) };
    },
  );

  app.get<{ Params: { org: string } }>(
    '/v1/orgs/:org',
    {
      schema: {
        ...op('orgs', 'Show an org with its networks and apps', 'admin, org (own)'),
        params: params({ org: label }),
        response: responses(answer({ org: 'Org', networks: { type: 'array', items: { $ref: 'Network#' } }, apps: { type: 'array', items: { $ref: 'App#' } } })),
      },
    },
    async (req) => {
      requireOrg(req, req.params.org);
      const org = await store.getOrg(req.params.org);
      const [networks, apps] = await Promise.all([store.listNetworks(org.name), store.listApps(org.name)]);
      return { org, networks, apps };
    },
  );

  app.post<{ Params: { org: string }; Body: { name: string } }>(
    '/v1/orgs/:org/networks',
    {
      schema: {
        ...op('networks', 'Create a custom network (its own /48) in an org', 'admin, org (own)'),
        params: params({ org: label }),
        body: body({ name: label }, ['name']),
        response: responses(answer({ network: 'Network' }, 'Created'), 201),
      },
    },
    async (req, reply) => {
      requireOrg(req, req.params.org);
      return reply.code(201).send({ network: await store.createNetwork(req.params.org, req.body.name) });
    },
  );

  app.get<{ Params: { org: string } }>(
    '/v1/orgs/:org/networks',
    {
      schema: {
        ...op('networks', "List an org's networks", 'admin, org (own)'),
        params: params({ org: label }),
        response: responses(answerList('networks', 'Network')),
      },
    },
    async (req) => {
      requireOrg(req, req.params.org);
      await store.getOrg(req.params.org);
      return { networks: await store.listNetworks(req.params.org) };
    },
  );
}
