import type { App } from '../../model/types.js';
import { networkPrefix } from '../../addr/plan.js';
import { ApiClient } from '../api.js';
import { label, parse, required, str, verbOf } from '../args.js';
import { resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';

const USAGE = 'sixpn apps create NAME --org ORG [--network NET] | sixpn apps list --org ORG  [--json]';

export async function appsCommand(argv: string[]): Promise<number> {
  const verb = verbOf(argv, 'apps', ['create', 'list'], USAGE);
  const rest = argv.slice(1);
  const p = parse(rest, { org: { type: 'string' }, network: { type: 'string' } }, USAGE, { min: verb === 'create' ? 1 : 0, max: verb === 'create' ? 1 : 0 });
  const api = new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  const org = label(required(p, 'org', USAGE), 'org');
  switch (verb) {
    case 'create': {
      const network = str(p, 'network');
      const r = await api.post<{ app: App }>('/v1/apps', { name: label(p.positionals[0]!, 'app name'), org, ...(network ? { network: label(network, 'network') } : {}) });
      if (p.values.json) printJson(r.app);
      else printRecord({ app: r.app.name, org: r.app.org, network: networkPrefix(r.app.network_id) });
      return 0;
    }
    case 'list': {
      const r = await api.get<{ apps: App[] }>(`/v1/apps?org=${encodeURIComponent(org)}`);
      if (p.values.json) printJson(r.apps);
      else printTable(r.apps.map((a) => ({ ...a, network: networkPrefix(a.network_id) })), ['name', 'org', 'network', 'created_at']);
      return 0;
    }
    default:
      throw new UsageError(`unknown apps command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  }
}
