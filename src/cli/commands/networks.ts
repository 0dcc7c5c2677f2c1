// `sixpn networks create|list`: an org's networks, each its own /48.
import { networkPrefix } from '../../addr/plan.js';
import { client, json, need } from '../ctx.js';
import { label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

export async function create(ctx: Context): Promise<number> {
  const org = label(need(ctx.flags, 'org'), 'org');
  const name = label(ctx.args[0]!, 'network name');
  const r = await client(ctx).createNetwork(org, name);
  if (json(ctx)) printJson(r.network);
  else printRecord({ network: r.network.name, org: r.network.org, prefix: networkPrefix(r.network.id), created: r.network.created_at });
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const org = label(need(ctx.flags, 'org'), 'org');
  const r = await client(ctx).listNetworks(org);
  if (json(ctx)) printJson(r.networks);
  else
    printTable(
      r.networks.map((n) => ({ ...n, prefix: networkPrefix(n.id) })),
      ['name', 'prefix', 'created_at'],
    );
  return 0;
}
