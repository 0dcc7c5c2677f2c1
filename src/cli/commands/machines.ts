import type { Machine } from '../../model/types.js';
import { isMachineId, isMetadataKey, isMetadataValue } from '../../validate.js';
import { bool, client, json, list as listFlag, need, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

function metadata(items: string[]): Record<string, string> | undefined {
  if (items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const k = item.slice(0, eq);
    const v = item.slice(eq + 1);
    if (eq < 1 || !isMetadataKey(k) || !isMetadataValue(v)) {
      throw new UsageError(`--meta ${JSON.stringify(item)} must be KEY=VALUE (key: a-z, 0-9, '-', '_'; value: 1-255 printable chars, no spaces)`);
    }
    out[k] = v;
  }
  return out;
}

function show(m: Machine, asJson: boolean): void {
  if (asJson) { printJson(m); return; }
  printRecord({ id: m.id, app: m.app, region: m.region, state: m.state + (m.reason ? ` (${m.reason})` : ''), address: m.address, host: m.host_id, group: m.group, metadata: m.metadata, command: m.command });
}

function machineId(s: string): string {
  if (!isMachineId(s)) throw new UsageError(`machine id ${JSON.stringify(s)} is not 14 hex chars`);
  return s;
}

/** `machines create` and `machines run -- CMD [ARGS]`. */
export async function create(ctx: Context): Promise<number> {
  const run = ctx.path[1] === 'run';
  if (run && ctx.rest.length === 0) throw new UsageError('machines run needs a command after --', { showUsage: true });
  const app = label(need(ctx.flags, 'app'), 'app');
  const region = label(need(ctx.flags, 'region'), 'region');
  const group = str(ctx.flags, 'group');
  const meta = metadata(listFlag(ctx.flags, 'meta'));
  const r = await client(ctx).createMachine({
    app, region,
    ...(group ? { group: label(group, 'group') } : {}),
    ...(meta ? { metadata: meta } : {}),
    ...(bool(ctx.flags, 'stopped') ? { stopped: true } : {}),
    ...(run ? { command: [...ctx.rest] } : {}),
  });
  show(r.machine, json(ctx));
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const app = label(need(ctx.flags, 'app'), 'app');
  const r = await client(ctx).listMachines(app, bool(ctx.flags, 'all'));
  if (json(ctx)) printJson(r.machines);
  else printTable(r.machines.map((m) => ({ ...m, metadata: Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`).join(',') || null })),
    ['id', 'region', 'state', 'address', 'group', 'metadata']);
  return 0;
}

/** show, start, stop, destroy ID */
export async function byId(ctx: Context): Promise<number> {
  const id = machineId(ctx.args[0]!);
  const api = client(ctx);
  const verb = ctx.path[1];
  const r = verb === 'show' ? await api.getMachine(id)
    : verb === 'start' ? await api.startMachine(id)
      : verb === 'stop' ? await api.stopMachine(id)
        : await api.destroyMachine(id);
  show(r.machine, json(ctx));
  return 0;
}
