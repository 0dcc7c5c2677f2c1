import { ApiClient } from '../api.js';
import { label, parse, required, str, verbOf } from '../args.js';
import { resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { printJson, printRecord } from '../output.js';

const USAGE = 'sixpn tokens create --scope org|wireguard --org ORG | tokens create --scope host-enroll|reader|admin | tokens revoke ID  [--json]';
const SCOPES = ['admin', 'org', 'wireguard', 'host-enroll', 'reader'];

export async function tokensCommand(argv: string[]): Promise<number> {
  const verb = verbOf(argv, 'tokens', ['create', 'revoke'], USAGE);
  const rest = argv.slice(1);
  const p = parse(rest, { scope: { type: 'string' }, org: { type: 'string' } }, USAGE, { min: verb === 'revoke' ? 1 : 0, max: verb === 'revoke' ? 1 : 0 });
  const api = () => new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  switch (verb) {
    case 'create': {
      const scope = required(p, 'scope', USAGE);
      if (!SCOPES.includes(scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`);
      const org = str(p, 'org');
      const r = await api().post<{ id: string; token: string; scope: string; org: string | null }>('/v1/tokens', { scope, ...(org ? { org: label(org, 'org') } : {}) });
      if (p.values.json) printJson(r);
      else printRecord({ id: r.id, scope: r.scope, org: r.org, token: r.token });
      return 0;
    }
    case 'revoke': {
      const r = await api().delete<{ revoked: string }>(`/v1/tokens/${encodeURIComponent(p.positionals[0]!)}`);
      if (p.values.json) printJson(r);
      else process.stdout.write(`revoked ${r.revoked}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown tokens command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  }
}
