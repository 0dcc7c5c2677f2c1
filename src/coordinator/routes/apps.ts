import type { FastifyInstance } from 'fastify';
import { caller, requireOrg, requireScope } from '../auth.js';
import { body, label, params } from '../schemas.js';
import { answer, answerList, op, responses } from '../responses.js';
import type { Store } from '../../store/store.js';

export function appRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Body: { name: string; org: string; network?: string } }>(
    '/v1/apps',
    {
      schema: {
        ...op('apps', 'Create an app in an org network', 'admin, org (own org)'),
        body: body({ name: label, org: label, network: label }, ['name', 'org']),
        response: responses(answer({ app: 'App' }, 'Created'), 201),
      },
    },
    async (req, reply) => {
      requireOrg(req, req.body.org);
      return reply.code(201).send({ app: await store.createApp(req.body) });
    },
  );

  app.get<{ Querystring: { org?: string } }>(
    '/v1/apps',
    {
      schema: {
        ...op('apps', 'List apps (an org token sees its own org)', 'admin, org'),
        querystring: { type: 'object', properties: { org: label }, additionalProperties: false },
        response: responses(answerList('apps', 'App')),
      },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'org');
      const org = req.query.org ?? (t.scope === 'org' ? t.org! : undefined);
      if (org !== undefined) {
        requireOrg(req, org);
        await store.getOrg(org);
      }
      return { apps: await store.listApps(org) };
    },
  );

  app.get<{ Params: { app: string } }>(
    '/v1/apps/:app',
    {
      schema: { ...op('apps', 'Show an app', 'admin, org (own org)'), params: params({ app: label }), response: responses(answer({ app: 'App' })) },
    },
    async (req) => {
      caller(req);
      const a = await store.getApp(req.params.app);
      requireOrg(req, a.org);
      return { app: a };
    },
  );
}
