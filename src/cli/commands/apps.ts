import { networkPrefix } from '../../addr/plan.js';
import { client, json, need, str } from '../ctx.js';
import { label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

export async function create(ctx: Context): Promise<number> {
  const name = label(ctx.args[0]!, 'app name');
  const org = label(need(ctx.flags, 'org'), 'org');
  const network = str(ctx.flags, 'network');
  const r = await client(ctx).createApp({ name, org, ...(network ? { network: label(network, 'network') } : {}) });
  if (json(ctx)) printJson(r.app);
  else printRecord({ app: r.app.name, org: r.app.org, network: networkPrefix(r.app.network_id) });
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const org = label(need(ctx.flags, 'org'), 'org');
  const r = await client(ctx).listApps(org);
  if (json(ctx)) printJson(r.apps);
  else
    printTable(
      r.apps.map((a) => ({ ...a, network: networkPrefix(a.network_id) })),
      ['name', 'org', 'network', 'created_at'],
    );
  return 0;
}
