import type { Machine } from '../../model/types.js';
import {
  CHECK_INTERVAL_MAX,
  CHECK_INTERVAL_MIN,
  CHECKS_MAX,
  checkText,
  isMachineId,
  isMetadataKey,
  isMetadataValue,
  parseAll,
  parseCheck,
  parsePort,
  PORTS_MAX,
  portText,
} from '../../validate.js';
import { bool, client, json, list as listFlag, need, str } from '../ctx.js';
import { CliError, UsageError } from '../errors.js';
import { duration, label } from '../flags.js';
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
  if (asJson) {
    printJson(m);
    return;
  }
  printRecord({
    id: m.id,
    app: m.app,
    region: m.region,
    state: m.state + (m.reason ? ` (${m.reason})` : ''),
    health: m.health ?? 'none',
    address: m.address,
    host: m.host_id,
    group: m.group,
    metadata: m.metadata,
    command: m.command,
    ...(m.checks?.length ? { checks: `${m.checks.map(checkText).join(' ')} every ${m.check_interval ?? 5}s` } : {}),
    ...(m.ports?.length ? { ports: m.ports.map(portText).join(' ') } : {}),
    ...(m.leases?.length ? { leases: m.leases.join(',') } : {}),
  });
}

/** --check, --check-interval and --port, checked here (exit 2) by the same rules the API applies. */
function healthFlags(ctx: Context): { checks?: string[]; check_interval?: number; ports?: string[] } {
  const checks = listFlag(ctx.flags, 'check');
  const ports = listFlag(ctx.flags, 'port');
  for (const [items, parse, what, max] of [
    [checks, parseCheck, 'check', CHECKS_MAX],
    [ports, parsePort, 'port', PORTS_MAX],
  ] as const) {
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
  const health = healthFlags(ctx);
  const wait = bool(ctx.flags, 'wait');
  if (wait && bool(ctx.flags, 'stopped')) throw new UsageError('--wait waits for a started machine: not with --stopped', { showUsage: true });
  const timeoutMs = duration(str(ctx.flags, 'wait-timeout') ?? '60s', 'wait-timeout', { lo: 1, hi: 86400, bare: true }) * 1000;
  const api = client(ctx);
  const r = await api.createMachine({
    app,
    region,
    ...(group ? { group: label(group, 'group') } : {}),
    ...(meta ? { metadata: meta } : {}),
    ...(bool(ctx.flags, 'stopped') ? { stopped: true } : {}),
    ...(run ? { command: [...ctx.rest] } : {}),
    ...health,
  });
  if (!wait) {
    show(r.machine, json(ctx));
    return 0;
  }
  const { waitAttached } = await import('../wait.js');
  show(await waitAttached(api, r.machine, { timeoutMs, tty: process.stderr }), json(ctx));
  return 0;
}

/** `machines metadata get ID [KEY]`, `set ID KEY VALUE`, `unset ID KEY` */
export async function meta(ctx: Context): Promise<number> {
  const id = machineId(ctx.args[0]!);
  const api = client(ctx);
  const verb = ctx.path[2];
  if (verb === 'get') {
    const all = (await api.getMetadata(id)).metadata;
    const key = ctx.args[1];
    if (key === undefined) {
      if (json(ctx)) printJson(all);
      else for (const [k, v] of Object.entries(all)) process.stdout.write(`${k}=${v}\n`);
      return 0;
    }
    if (!(key in all)) throw new CliError(`machine ${id} has no metadata key ${JSON.stringify(key)}`);
    if (json(ctx)) printJson({ key, value: all[key] });
    else process.stdout.write(`${all[key]}\n`);
    return 0;
  }
  const key = ctx.args[1];
  if (key === undefined) throw new UsageError('missing argument KEY', { showUsage: true });
  if (!isMetadataKey(key)) throw new UsageError(`metadata key ${JSON.stringify(key)} must be a-z, 0-9, '-', '_'`);
  let value: string | null = null;
  if (verb === 'set') {
    value = ctx.args[2] ?? null;
    if (value === null) throw new UsageError('missing argument VALUE', { showUsage: true });
    if (!isMetadataValue(value)) throw new UsageError('VALUE must be 1-255 printable characters, no spaces');
  }
  const r = await api.setMetadata(id, key, value);
  if (json(ctx)) printJson(r.machine.metadata);
  else for (const [k, v] of Object.entries(r.machine.metadata)) process.stdout.write(`${k}=${v}\n`);
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const app = label(need(ctx.flags, 'app'), 'app');
  const r = await client(ctx).listMachines(app, bool(ctx.flags, 'all'));
  if (json(ctx)) printJson(r.machines);
  else
    printTable(
      r.machines.map((m) => ({
        ...m,
        health: m.health ?? 'none',
        metadata:
          Object.entries(m.metadata)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || null,
      })),
      ['id', 'region', 'state', 'address', 'health', 'group', 'metadata'],
    );
  return 0;
}

/** show, start, stop, destroy ID */
export async function byId(ctx: Context): Promise<number> {
  const id = machineId(ctx.args[0]!);
  const api = client(ctx);
  const verb = ctx.path[1];
  const r =
    verb === 'show'
      ? await api.getMachine(id)
      : verb === 'start'
        ? await api.startMachine(id)
        : verb === 'stop'
          ? await api.stopMachine(id)
          : await api.destroyMachine(id);
  show(r.machine, json(ctx));
  return 0;
}
