import type { Host } from '../../model/types.js';
import { isWgKey, parseEndpoint } from '../../validate.js';
import { ApiClient } from '../api.js';
import { label, parse, required, str, verbOf } from '../args.js';
import { resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';

const USAGE = 'sixpn hosts list | sixpn hosts enroll --region CODE --endpoint HOST:PORT --public-key KEY [--gateway]  [--json]';

export async function hostsCommand(argv: string[]): Promise<number> {
  const verb = verbOf(argv, 'hosts', ['list', 'enroll'], USAGE);
  const rest = argv.slice(1);
  const p = parse(rest, { region: { type: 'string' }, endpoint: { type: 'string' }, 'public-key': { type: 'string' }, gateway: { type: 'boolean' } }, USAGE, { min: 0, max: 0 });
  const api = () => new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  switch (verb) {
    case 'list': {
      const r = await api().get<{ hosts: Host[] }>('/v1/hosts');
      if (p.values.json) printJson(r.hosts);
      else printTable(r.hosts as unknown as Record<string, unknown>[], ['id', 'region', 'endpoint', 'gateway', 'public_key']);
      return 0;
    }
    case 'enroll': {
      const endpoint = required(p, 'endpoint', USAGE);
      if (!parseEndpoint(endpoint)) throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not HOST:PORT`);
      const key = required(p, 'public-key', USAGE);
      if (!isWgKey(key)) throw new UsageError('--public-key must be a WireGuard public key (32 bytes, base64)');
      const r = await api().post<{ host: Host; credential: string }>('/v1/hosts', {
        region: label(required(p, 'region', USAGE), 'region'), endpoint, public_key: key, gateway: !!p.values.gateway,
      });
      if (p.values.json) printJson(r);
      else printRecord({ host: r.host.id, region: r.host.region, endpoint: r.host.endpoint, gateway: r.host.gateway, credential: r.credential });
      return 0;
    }
    default:
      throw new UsageError(`unknown hosts command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  }
}
