import type { Network, Org, App } from '../../model/types.js';
import { networkPrefix } from '../../addr/plan.js';
import { ApiClient } from '../api.js';
import { label, parse, str, verbOf } from '../args.js';
import { resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';

const USAGE = 'sixpn orgs create|list|show [NAME] [--json]';

export async function orgsCommand(argv: string[]): Promise<number> {
  const verb = verbOf(argv, 'orgs', ['create', 'list', 'show'], USAGE);
  const rest = argv.slice(1);
  const p = parse(rest, {}, USAGE, { min: verb === 'list' ? 0 : 1, max: verb === 'list' ? 0 : 1 });
  const api = new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  const json = !!p.values.json;
  switch (verb) {
    case 'create': {
      const r = await api.post<{ org: Org; network: Network }>('/v1/orgs', { name: label(p.positionals[0]!, 'org name') });
      if (json) printJson(r);
      else printRecord({ org: r.org.name, network: networkPrefix(r.network.id), created: r.org.created_at });
      return 0;
    }
    case 'list': {
      const r = await api.get<{ orgs: Org[] }>('/v1/orgs');
      if (json) printJson(r.orgs);
      else printTable(r.orgs.map((o) => ({ ...o, network: networkPrefix(o.network_id) })), ['name', 'network', 'created_at']);
      return 0;
    }
    case 'show': {
      const r = await api.get<{ org: Org; networks: Network[]; apps: App[] }>(`/v1/orgs/${encodeURIComponent(label(p.positionals[0]!, 'org name'))}`);
      if (json) { printJson(r); return 0; }
      printRecord({ org: r.org.name, created: r.org.created_at });
      process.stdout.write('\n');
      printTable(r.networks.map((n) => ({ ...n, prefix: networkPrefix(n.id) })), ['name', 'prefix']);
      process.stdout.write('\n');
      printTable(r.apps.map((a) => ({ ...a, network: r.networks.find((n) => n.id === a.network_id)?.name })), ['name', 'network', 'created_at']);
      return 0;
    }
    default:
      throw new UsageError(`unknown orgs command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  }
}
