import type { Machine } from '../../model/types.js';
import { METADATA_KEY_PATTERN } from '../../validate.js';
import { ApiClient } from '../api.js';
import { label, parse, required, str, type Parsed, verbOf } from '../args.js';
import { resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';

const USAGE = [
  'sixpn machines create --app APP --region CODE [--group G] [--meta K=V]... [--stopped]',
  '       sixpn machines run --app APP --region CODE [--group G] [--meta K=V]... -- CMD [ARGS]',
  '       sixpn machines list --app APP [--all] | machines show|start|stop|destroy ID   [--json]',
].join('\n');

const META_KEY = new RegExp(METADATA_KEY_PATTERN);

function metadata(p: Parsed): Record<string, string> | undefined {
  const items = (p.values.meta as string[] | undefined) ?? [];
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

function show(m: Machine, json: boolean): void {
  if (json) { printJson(m); return; }
  printRecord({ id: m.id, app: m.app, region: m.region, state: m.state + (m.reason ? ` (${m.reason})` : ''), address: m.address, host: m.host_id, group: m.group, metadata: m.metadata, command: m.command });
}

function machineId(s: string): string {
  if (!/^[0-9a-f]{14}$/.test(s)) throw new UsageError(`machine id ${JSON.stringify(s)} is not 14 hex chars`);
  return s;
}

export async function machinesCommand(argv: string[]): Promise<number> {
  const verb = verbOf(argv, 'machines', ['create', 'run', 'list', 'show', 'start', 'stop', 'destroy'], USAGE);
  const all = argv.slice(1);
  const dash = all.indexOf('--');
  const rest = dash >= 0 ? all.slice(0, dash) : all;
  const cmd = dash >= 0 ? all.slice(dash + 1) : [];
  const byId = ['show', 'start', 'stop', 'destroy'].includes(verb ?? '');
  const p = parse(rest, {
    app: { type: 'string' }, region: { type: 'string' }, group: { type: 'string' }, meta: { type: 'string', multiple: true },
    stopped: { type: 'boolean' }, all: { type: 'boolean' },
  }, USAGE, { min: byId ? 1 : 0, max: byId ? 1 : 0 });
  const json = !!p.values.json;
  const config = () => new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  switch (verb) {
    case 'create':
    case 'run': {
      if (verb === 'run' && cmd.length === 0) throw new UsageError(`machines run needs a command after --\nusage: ${USAGE}`);
      if (verb === 'create' && dash >= 0) throw new UsageError('machines create takes no command; use machines run');
      const group = str(p, 'group');
      const r = await config().post<{ machine: Machine }>('/v1/machines', {
        app: label(required(p, 'app', USAGE), 'app'),
        region: label(required(p, 'region', USAGE), 'region'),
        ...(group ? { group: label(group, 'group') } : {}),
        ...(metadata(p) ? { metadata: metadata(p) } : {}),
        ...(p.values.stopped ? { stopped: true } : {}),
        ...(verb === 'run' ? { command: cmd } : {}),
      });
      show(r.machine, json);
      return 0;
    }
    case 'list': {
      const app = label(required(p, 'app', USAGE), 'app');
      const r = await config().get<{ machines: Machine[] }>(`/v1/machines?app=${encodeURIComponent(app)}${p.values.all ? '&all=true' : ''}`);
      if (json) printJson(r.machines);
      else printTable(r.machines.map((m) => ({ ...m, metadata: Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`).join(',') || null })),
        ['id', 'region', 'state', 'address', 'group', 'metadata']);
      return 0;
    }
    case 'show':
      show((await config().get<{ machine: Machine }>(`/v1/machines/${machineId(p.positionals[0]!)}`)).machine, json);
      return 0;
    case 'start':
    case 'stop':
      show((await config().post<{ machine: Machine }>(`/v1/machines/${machineId(p.positionals[0]!)}/${verb}`)).machine, json);
      return 0;
    case 'destroy':
      show((await config().delete<{ machine: Machine }>(`/v1/machines/${machineId(p.positionals[0]!)}`)).machine, json);
      return 0;
    default:
      throw new UsageError(`unknown machines command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  }
}
