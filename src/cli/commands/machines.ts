import type { Machine } from '../../model/types.js';
import { CHECK_INTERVAL_MAX, CHECK_INTERVAL_MIN, CHECKS_MAX, checkText, METADATA_KEY_PATTERN, parseAll, parseCheck, parsePort, PORTS_MAX, portText } from '../../validate.js';
import { bool, client, json, list as listFlag, need, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { duration, label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

const META_KEY = new RegExp(METADATA_KEY_PATTERN);

function metadata(items: string[]): Record<string, string> | undefined {
  if (items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const k = item.slice(0, eq);
    const v = item.slice(eq + 1);
    if (eq < 1 || !META_KEY.test(k) || !/^[\x21-\x7e]{1,255}$/.test(v)) {
      throw new UsageError(`--meta ${JSON.stringify(item)} must be KEY=VALUE (key: a-z, 0-9, '-', '_'; value: 1-255 printable chars, no spaces)`);
    }
    out[k] = v;
  }
  return out;
}

function show(m: Machine, asJson: boolean): void {
  if (asJson) { printJson(m); return; }
  printRecord({
    id: m.id, app: m.app, region: m.region, state: m.state + (m.reason ? ` (${m.reason})` : ''), health: m.health ?? 'none', address: m.address, host: m.host_id,
    group: m.group, metadata: m.metadata, command: m.command,
    ...(m.checks?.length ? { checks: `${m.checks.map(checkText).join(' ')} every ${m.check_interval ?? 5}s` } : {}),
    ...(m.ports?.length ? { ports: m.ports.map(portText).join(' ') } : {}),
    ...(m.leases?.length ? { leases: m.leases.join(',') } : {}),
  });
}

/** --check, --check-interval and --port, checked here (exit 2) by the same rules the API applies. */
function healthFlags(ctx: Context): { checks?: string[]; check_interval?: number; ports?: string[] } {
  const checks = listFlag(ctx.flags, 'check');
  const ports = listFlag(ctx.flags, 'port');
  for (const [items, parse, what, max] of [[checks, parseCheck, 'check', CHECKS_MAX], [ports, parsePort, 'port', PORTS_MAX]] as const) {
    const r = parseAll<unknown>(items, parse, what, max);
    if (typeof r === 'string') throw new UsageError(`--${what}: ${r}`, { showUsage: true });
  }
  const every = str(ctx.flags, 'check-interval');
  return {
    ...(checks.length ? { checks } : {}),
    ...(every !== undefined ? { check_interval: duration(every, 'check-interval', { lo: CHECK_INTERVAL_MIN, hi: CHECK_INTERVAL_MAX }) } : {}),
    ...(ports.length ? { ports } : {}),
  };
}

function machineId(s: string): string {
  if (!/^[0-9a-f]{14}$/.test(s)) throw new UsageError(`machine id ${JSON.stringify(s)} is not 14 hex chars`);
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
  const health = healthFlags(ctx);
  const r = await client(ctx).createMachine({
    app, region,
    ...(group ? { group: label(group, 'group') } : {}),
    ...(meta ? { metadata: meta } : {}),
    ...(bool(ctx.flags, 'stopped') ? { stopped: true } : {}),
    ...(run ? { command: [...ctx.rest] } : {}),
    ...health,
  });
  show(r.machine, json(ctx));
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const app = label(need(ctx.flags, 'app'), 'app');
  const r = await client(ctx).listMachines(app, bool(ctx.flags, 'all'));
  if (json(ctx)) printJson(r.machines);
  else printTable(r.machines.map((m) => ({ ...m, health: m.health ?? 'none', metadata: Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`).join(',') || null })),
    ['id', 'region', 'state', 'address', 'health', 'group', 'metadata']);
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
