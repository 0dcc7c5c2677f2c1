// `sixpn status`: the coordinator and its hosts, problems first. What the
// coordinator knows today: its version, store and revisions (feed lag), each
// host's region, endpoint and reported version. Hosts do not report liveness
// or WireGuard handshakes to the coordinator yet, so those are not shown.
import { VERSION } from '../../version.js';
import { client, connection, json } from '../ctx.js';
import { printJson, printTable } from '../output.js';
import type { Context } from '../spec.js';

interface Health {
  version: string;
  commit: string | null;
  rev: number;
  feed_rev: number;
}

export async function statusCommand(ctx: Context): Promise<number> {
  const c = connection(ctx);
  const api = client(ctx, 10_000);
  const health = await api.call<Health>('GET', '/healthz');
  const { hosts } = await api.listHosts();
  const metrics = await fetch(`${c.api}/metrics`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const store = /sixpn_coordinator_info\{[^}]*store="([^"]+)"/.exec(metrics)?.[1] ?? null;
  const problems: string[] = [];
  const lag = health.rev - health.feed_rev;
  if (lag > 0) problems.push(`the change feed is ${lag} revision(s) behind the store`);
  const base = (v: string | null | undefined): string | null => (v ? v.split('+')[0]! : null);
  for (const h of hosts) {
    if (!h.version) problems.push(`host ${h.id} (${h.region}) has never reported a version: is its agent running?`);
    else if (base(h.version) !== health.version) problems.push(`host ${h.id} (${h.region}) runs ${h.version}, the coordinator ${health.version}`);
  }
  const out = {
    problems,
    coordinator: {
      url: c.api,
      version: health.version,
      commit: health.commit,
      store,
      revision: health.rev,
      feed_revision: health.feed_rev,
      feed_lag: lag,
      cli_version: VERSION,
    },
    hosts: hosts.map((h) => ({ id: h.id, region: h.region, endpoint: h.endpoint, gateway: h.gateway, version: h.version ?? null })),
  };
  if (json(ctx)) {
    printJson(out);
    return 0;
  }
  process.stdout.write(problems.length ? `problems:\n${problems.map((p) => `  ! ${p}`).join('\n')}\n\n` : 'problems: none\n\n');
  const k = out.coordinator;
  process.stdout.write(
    `coordinator  ${k.url}  version ${k.version}${k.commit ? ` (${k.commit})` : ''}  store ${k.store ?? '?'}  revision ${k.revision}  feed lag ${k.feed_lag}\n\n`,
  );
  printTable(out.hosts, ['id', 'region', 'endpoint', 'gateway', 'version']);
  return 0;
}
