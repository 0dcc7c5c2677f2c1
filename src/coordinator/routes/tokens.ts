import type { FastifyInstance } from 'fastify';
import { AppError, notFound } from '../../errors.js';
import { SCOPES, type Scope, type TokenInfo } from '../../model/auth.js';
import type { Store } from '../../store/store.js';
import { requireOrg, requireScope } from '../auth.js';
import { body, label, params, ttlSeconds } from '../schemas.js';
import { answer, op, responses } from '../responses.js';

const ORG_BOUND: readonly Scope[] = ['org', 'wireguard'];
const orNull = (description: string): Record<string, unknown> => ({ type: ['string', 'null'], description });
const tokenId = { type: 'string', pattern: '^[0-9a-f]{12}$' } as const;

const TOKEN_RECORD = answer(
  {
    id: { type: 'string' },
    scope: { type: 'string', enum: [...SCOPES] },
    org: { type: ['string', 'null'] },
    app: orNull('the app a wireguard token is made for'),
    host_id: { type: ['integer', 'null'], description: 'the host of a host credential' },
    created_at: { type: 'string', description: 'ISO 8601 time' },
    expires_at: orNull('when it stops working (null: never)'),
    last_used_at: orNull('its last use, recorded at most once a minute'),
  },
  'A token (never its secret)',
);

export interface TokenRouteHooks {
  /** a token was revoked: drop cached lookups */
  onRevoke: () => void;
  /** end the revoked token's open streams */
  endStreams?: (id: string) => void;
}

/** When a new token expires: `ttl` from now, and never after the token that makes it (400 if asked to). */
function expiryOf(maker: TokenInfo, ttl: number | undefined): string | null {
  const asked = ttl === undefined ? null : new Date(Date.now() + ttl * 1000).toISOString();
  if (maker.expires_at === null) return asked;
  if (asked === null) return maker.expires_at;
  if (asked > maker.expires_at) throw new AppError('invalid', `a token cannot outlive the token that makes it (which expires at ${maker.expires_at})`);
  return asked;
}

export function tokenRoutes(app: FastifyInstance, store: Store, { onRevoke, endStreams }: TokenRouteHooks): void {
  app.post<{ Body: { scope: Scope; org?: string; app?: string; ttl_seconds?: number } }>(
    '/v1/tokens',
    {
      schema: {
        ...op('tokens', 'Create a token (the secret is shown once)', 'admin (any scope), org (org or wireguard tokens of its own org)'),
        body: body({ scope: { type: 'string', enum: SCOPES.filter((s) => s !== 'host') }, org: label, app: label, ttl_seconds: ttlSeconds }, ['scope']),
        response: responses(
          answer(
            {
              id: { type: 'string', description: 'the token id, for DELETE /v1/tokens/:id' },
              token: { type: 'string', description: 'the secret' },
              scope: { type: 'string', enum: [...SCOPES] },
              org: { type: ['string', 'null'] },
              app: orNull('the app a wireguard token is made for'),
              expires_at: orNull('when it stops working (null: never)'),
            },
            'Created',
          ),
          201,
        ),
      },
    },
    async (req, reply) => {
      const { scope, org, app: appName, ttl_seconds: ttl } = req.body;
      let maker: TokenInfo;
      if (ORG_BOUND.includes(scope)) {
        if (!org) throw new AppError('invalid', `a ${scope} token needs --org`);
        maker = requireOrg(req, org); // an org token may mint org/wireguard tokens of its own org
        await store.getOrg(org);
      } else {
        maker = requireScope(req, 'admin');
        if (org) throw new AppError('invalid', `a ${scope} token is not bound to an org`);
      }
      if (appName !== undefined) {
        if (scope !== 'wireguard') throw new AppError('invalid', `only a wireguard token is made for an app, not a ${scope} token`);
        const a = await store.getApp(appName);
        if (a.org !== org) throw notFound('app', appName); // another org's app is not found, as everywhere
      }
      const expires_at = expiryOf(maker, ttl);
      const { id, token } = await store.createToken({ scope, org: org ?? null, app: appName ?? null, expires_at });
      return reply.code(201).send({ id, token, scope, org: org ?? null, app: appName ?? null, expires_at });
    },
  );

  app.get<{ Querystring: { org?: string } }>(
    '/v1/tokens',
    {
      schema: {
        ...op('tokens', "List unrevoked tokens (expired ones too): admin sees all or one org's, an org token its own org's", 'admin, org (own org)'),
        querystring: { type: 'object', properties: { org: label }, additionalProperties: false },
        response: responses(answer({ tokens: { type: 'array', items: TOKEN_RECORD } })),
      },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'org');
      const org = req.query.org ?? (t.scope === 'admin' ? undefined : t.org!);
      if (org !== undefined) {
        requireOrg(req, org);
        await store.getOrg(org);
      }
      return { tokens: await store.listTokens(org) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      schema: {
        ...op('tokens', 'Revoke a token; its open watch and dashboard streams end at once', 'admin, org (tokens of its own org)'),
        params: params({ id: tokenId }),
        response: responses(answer({ revoked: { type: 'string', description: 'the id revoked' } })),
      },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'org');
      if (t.scope !== 'admin') {
        // Another org's token (or an unbound one) is "not found" to an org token: ids are not probed.
        const target = await store.findToken(req.params.id);
        if (!target || target.org !== t.org) throw notFound('token', req.params.id);
      }
      await store.revokeToken(req.params.id);
      onRevoke();
      endStreams?.(req.params.id);
      return { revoked: req.params.id };
    },
  );
}
