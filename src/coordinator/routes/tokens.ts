import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { SCOPES, type Scope } from '../../model/auth.js';
import type { Store } from '../../store/store.js';
import { requireOrg, requireScope } from '../auth.js';
import { body, label, params } from '../schemas.js';
import { answer, op, responses } from '../responses.js';

const ORG_BOUND: readonly Scope[] = ['org', 'wireguard'];

export function tokenRoutes(app: FastifyInstance, store: Store, onRevoke: () => void): void {
  app.post<{ Body: { scope: Scope; org?: string } }>('/v1/tokens', {
    schema: {
      ...op('tokens', 'Create a token (the secret is shown once)', 'admin (any scope), org (org or wireguard tokens of its own org)'),
      body: body({ scope: { type: 'string', enum: SCOPES.filter((s) => s !== 'host') }, org: label }, ['scope']),
      response: responses(answer({
        id: { type: 'string', description: 'the token id, for DELETE /v1/tokens/:id' }, token: { type: 'string', description: 'the secret' },
        scope: { type: 'string', enum: [...SCOPES] }, org: { type: ['string', 'null'] },
      }, 'Created'), 201),
    },
  }, async (req, reply) => {
    const { scope, org } = req.body;
    if (ORG_BOUND.includes(scope)) {
      if (!org) throw new AppError('invalid', `a ${scope} token needs --org`);
      requireOrg(req, org); // an org token may mint org/wireguard tokens of its own org
      await store.getOrg(org);
    } else {
      requireScope(req, 'admin');
      if (org) throw new AppError('invalid', `a ${scope} token is not bound to an org`);
    }
    const { id, token } = await store.createToken({ scope, org: org ?? null });
    return reply.code(201).send({ id, token, scope, org: org ?? null });
  });

  app.delete<{ Params: { id: string } }>('/v1/tokens/:id', {
    schema: {
      ...op('tokens', 'Revoke a token', 'admin'),
      params: params({ id: { type: 'string', pattern: '^[0-9a-f]{12}$' } }),
      response: responses(answer({ revoked: { type: 'string', description: 'the id revoked' } })),
    },
  }, async (req) => {
    requireScope(req, 'admin');
    await store.revokeToken(req.params.id);
    onRevoke();
    return { revoked: req.params.id };
  });
}
