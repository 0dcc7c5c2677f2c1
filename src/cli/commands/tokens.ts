import type { TokenScope } from '../../client/types.js';
import { client, json, need, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { label, oneOf, ttl as ttlOf } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

const SCOPES: readonly TokenScope[] = ['admin', 'org', 'wireguard', 'host-enroll', 'reader'];

export async function create(ctx: Context): Promise<number> {
  const scope = oneOf(need(ctx.flags, 'scope'), 'scope', SCOPES);
  const org = str(ctx.flags, 'org');
  const app = str(ctx.flags, 'app');
  if (app !== undefined && scope !== 'wireguard') throw new UsageError('--app is only for --scope wireguard (a CI token that may create peers of that app)');
  const ttlText = str(ctx.flags, 'ttl');
  const ttl = ttlText === undefined ? undefined : ttlOf(ttlText);
  const r = await client(ctx).createToken({
    scope,
    ...(org ? { org: label(org, 'org') } : {}),
    ...(app ? { app: label(app, 'app') } : {}),
    ...(ttl ? { ttl_seconds: ttl } : {}),
  });
  if (json(ctx)) printJson(r);
  else printRecord({ id: r.id, scope: r.scope, org: r.org, ...(r.app ? { app: r.app } : {}), expires: r.expires_at ?? 'never', token: r.token });
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const org = str(ctx.flags, 'org');
  const r = await client(ctx).listTokens(org === undefined ? undefined : label(org, 'org'));
  if (json(ctx)) {
    printJson(r.tokens);
    return 0;
  }
  const now = Date.now();
  printTable(
    r.tokens.map((t) => ({
      id: t.id,
      scope: t.scope,
      org: t.org,
      app: t.app,
      host: t.host_id,
      created: t.created_at,
      expires: t.expires_at === null ? 'never' : Date.parse(t.expires_at) <= now ? `${t.expires_at} (expired)` : t.expires_at,
      'last used': t.last_used_at,
    })),
    ['id', 'scope', 'org', 'app', 'host', 'created', 'expires', 'last used'],
  );
  return 0;
}

export async function revoke(ctx: Context): Promise<number> {
  const r = await client(ctx).revokeToken(ctx.args[0]!);
  if (json(ctx)) printJson(r);
  else process.stdout.write(`revoked ${r.revoked}\n`);
  return 0;
}
