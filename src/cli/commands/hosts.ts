import { isWgKey } from '../../validate.js';
import { bool, client, json, need } from '../ctx.js';
import { UsageError } from '../errors.js';
import { endpoint, label } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';
import type { FeedLagView, HostReportView } from '../../model/host-report.js';

export async function list(ctx: Context): Promise<number> {
  const r = await client(ctx).listHosts();
  if (json(ctx)) printJson(r.hosts);
  else printTable(r.hosts as unknown as Record<string, unknown>[], ['id', 'region', 'endpoint', 'gateway', 'version', 'public_key', 'status', 'last_seen']);
  return 0;
}

/** `hosts remove ID [--force]`: prints the developer peers removed with it and its machines now lost. */
export async function remove(ctx: Context): Promise<number> {
  const raw = ctx.args[0] ?? '';
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(id <= 0xffffffff)) throw new UsageError(`ID must be a host id (a positive integer, see hosts list), got ${JSON.stringify(raw)}`, { showUsage: true });
  const r = await client(ctx).removeHost(id, bool(ctx.flags, 'force'));
  if (json(ctx)) {
    printJson(r);
    return 0;
  }
  process.stdout.write(`removed host ${r.host.id} (${r.host.region}, ${r.host.endpoint})\n`);
  for (const p of r.removed_peers) process.stdout.write(`removed peer ${p.org}/${p.name} (${p.address})\n`);
  for (const m of r.lost_machines) process.stdout.write(`machine ${m} lost\n`);
  return 0;
}

export async function enroll(ctx: Context): Promise<number> {
  const ep = endpoint(need(ctx.flags, 'endpoint'), 'endpoint');
  const key = need(ctx.flags, 'public-key');
  if (!isWgKey(key)) throw new UsageError('--public-key must be a WireGuard public key (32 bytes, base64)');
  const region = label(need(ctx.flags, 'region'), 'region');
  const r = await client(ctx).enroll({ region, endpoint: ep, public_key: key, gateway: bool(ctx.flags, 'gateway') });
  if (json(ctx)) printJson(r);
  else printRecord({ host: r.host.id, region: r.host.region, endpoint: r.host.endpoint, gateway: r.host.gateway, credential: r.credential });
  return 0;
}

export async function show(ctx: Context): Promise<number> {
  const raw = ctx.args[0]!;
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 0xffffffff) throw new UsageError(`host id ${JSON.stringify(raw)} must be a number (sixpn hosts list)`);
  const r = await client(ctx).getHost(Number(raw));
  if (json(ctx)) printJson(r.host);
  else
    printRecord({
      id: r.host.id,
      region: r.host.region,
      endpoint: r.host.endpoint,
      gateway: r.host.gateway,
      version: r.host.version ?? null,
      public_key: r.host.public_key,
      status: r.host.status,
      last_seen: r.host.last_seen,
      created: r.host.created_at,
      ...reportLines(r.host.report),
    });
  return 0;
}

/** What its agent last reported, one line each (none before its first report). */
function reportLines(r: HostReportView | null | undefined): Record<string, string> {
  if (!r) return { reported: 'never (no agent report yet)' };
  const lag = (f: FeedLagView): string => `${f.lag} behind (rev ${f.rev}${f.lag_s ? `, waiting ${f.lag_s} s` : ''})`;
  return {
    reported: r.reported_at,
    handshakes:
      r.peers
        .map((p) => `host ${p.host_id} ${p.handshake_age_s === null ? 'never' : `${p.handshake_age_s}s ago`}${p.sending ? ' (sending)' : ''}`)
        .join(', ') || '-',
    agent_feed: lag(r.agent),
    dns_feed: r.dns ? lag(r.dns) : '-',
  };
}
