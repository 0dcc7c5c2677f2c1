import type { TokenScope } from '../../client/types.js';
import { client, json, need, str } from '../ctx.js';
import { label, oneOf } from '../flags.js';
import { printJson, printRecord } from '../output.js';
import type { Context } from '../spec.js';

const SCOPES: readonly TokenScope[] = ['admin', 'org', 'wireguard', 'host-enroll', 'reader'];

export async function create(ctx: Context): Promise<number> {
  const scope = oneOf(need(ctx.flags, 'scope'), 'scope', SCOPES);
  const org = str(ctx.flags, 'org');
  const r = await client(ctx).createToken({ scope, ...(org ? { org: label(org, 'org') } : {}) });
  if (json(ctx)) printJson(r);
  else printRecord({ id: r.id, scope: r.scope, org: r.org, token: r.token });
  return 0;
}

export async function revoke(ctx: Context): Promise<number> {
  const r = await client(ctx).revokeToken(ctx.args[0]!);
  if (json(ctx)) printJson(r);
  else process.stdout.write(`revoked ${r.revoked}\n`);
  return 0;
}
