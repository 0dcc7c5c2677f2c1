import type { FastifyInstance } from 'fastify';
import { requireOrg, requireScope } from '../auth.js';
import { body, label, params } from '../schemas.js';
import type { Store } from '../../store/store.js';

export function orgRoutes(app: FastifyInstance, store: Store): void {
  app.get('/v1/regions', async (req) => {
    requireScope(req, 'admin', 'org', 'wireguard', 'host-enroll', 'reader', 'host');
    return { regions: await store.listRegions() };
  });

  app.post<{ Body: { name: string } }>('/v1/orgs', { schema: { body: body({ name: label }, ['name']) } }, async (req, reply) => {
    requireScope(req, 'admin');
    const { org, network } = await store.createOrg(req.body.name);
    return reply.code(201).send({ org, network });
  });

  app.get('/v1/orgs', async (req) => {
    const t = requireScope(req, 'admin', 'org');
    const orgs = await store.listOrgs();
    return { orgs: t.scope === 'admin' ? orgs : orgs.filter((o) => o.name === t.org) };
  });

  app.get<{ Params: { org: string } }>('/v1/orgs/:org', { schema: { params: params({ org: label }) } }, async (req) => {
    requireOrg(req, req.params.org);
    const org = await store.getOrg(req.params.org);
    const [networks, apps] = await Promise.all([store.listNetworks(org.name), store.listApps(org.name)]);
    return { org, networks, apps };
  });

  app.post<{ Params: { org: string }; Body: { name: string } }>('/v1/orgs/:org/networks', {
    schema: { params: params({ org: label }), body: body({ name: label }, ['name']) },
  }, async (req, reply) => {
    requireOrg(req, req.params.org);
    return reply.code(201).send({ network: await store.createNetwork(req.params.org, req.body.name) });
  });

  app.get<{ Params: { org: string } }>('/v1/orgs/:org/networks', { schema: { params: params({ org: label }) } }, async (req) => {
    requireOrg(req, req.params.org);
    await store.getOrg(req.params.org);
    return { networks: await store.listNetworks(req.params.org) };
  });
}
