import { networkPrefix } from '../../addr/plan.js';
import { client, json } from '../ctx.js';
import { label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

export async function create(ctx: Context): Promise<number> {
  const name = label(ctx.args[0]!, 'org name');
  const r = await client(ctx).createOrg(name);
  if (json(ctx)) printJson(r);
  else printRecord({ org: r.org.name, network: networkPrefix(r.network.id), created: r.org.created_at });
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const r = await client(ctx).listOrgs();
  if (json(ctx)) printJson(r.orgs);
  else
    printTable(
      r.orgs.map((o) => ({ ...o, network: networkPrefix(o.network_id) })),
      ['name', 'network', 'created_at'],
    );
  return 0;
}

export async function show(ctx: Context): Promise<number> {
  const r = await client(ctx).getOrg(label(ctx.args[0]!, 'org name'));
  if (json(ctx)) {
    printJson(r);
    return 0;
  }
  printRecord({ org: r.org.name, created: r.org.created_at });
  process.stdout.write('\n');
  printTable(
    r.networks.map((n) => ({ ...n, prefix: networkPrefix(n.id) })),
    ['name', 'prefix'],
  );
  process.stdout.write('\n');
  printTable(
    r.apps.map((a) => ({ ...a, network: r.networks.find((n) => n.id === a.network_id)?.name })),
    ['name', 'network', 'created_at'],
  );
  return 0;
}
