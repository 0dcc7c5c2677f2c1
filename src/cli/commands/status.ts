// `sixpn status`: the coordinator and its hosts, problems first. What the
// coordinator knows: its version, store and revisions (feed lag); each host's
// region, endpoint, reported version, last heartbeat and reachability, its
// machines, and the developer peers it carries with their gateway-reported
// handshake ages; and what each host's agent reports with its heartbeat: its
// WireGuard handshakes with the other hosts, its and its DNS server's feed lag
// (status-report.ts).
import { VERSION } from '../../version.js';
import { client, connection, json } from '../ctx.js';
import { printJson, printTable } from '../output.js';
import type { Context } from '../spec.js';
import { printReports, reportOut, reportProblems } from './status-report.js';

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
  const load = await hostLoad(api);
  for (const h of hosts) {
    if (h.status === 'unreachable') problems.push(`host ${h.id} (${h.region}) is unreachable: last heard from ${h.last_seen ?? 'never'}`);
    const failed = load.get(h.id)?.failed ?? 0;
    if (failed > 0) problems.push(`host ${h.id} (${h.region}) could not run ${failed} machine(s): see \`sixpn machines list\``);
  }
  for (const h of hosts) {
    if (!h.version) problems.push(`host ${h.id} (${h.region}) has never reported a version: is its agent running?`);
    else if (base(h.version) !== health.version) problems.push(`host ${h.id} (${h.region}) runs ${h.version}, the coordinator ${health.version}`);
  }
  problems.push(...reportProblems(hosts));
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
    hosts: hosts.map((h) => {
      const l = load.get(h.id) ?? emptyLoad();
      return {
        id: h.id,
        region: h.region,
        endpoint: h.endpoint,
        gateway: h.gateway,
        version: h.version ?? null,
        status: h.status,
        last_seen: h.last_seen,
        machines: l.machines,
        started: l.started,
        peers: l.peers,
        newest_handshake_s: l.newestHandshake === null ? null : Math.max(0, Math.round(Date.now() / 1000 - l.newestHandshake)),
        ...reportOut(h, hosts),
      };
    }),
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
  printTable(
    out.hosts.map((h) => ({
      ...h,
      machines: `${h.started}/${h.machines}`,
      newest_handshake: h.newest_handshake_s === null ? '-' : `${h.newest_handshake_s}s ago`,
    })),
    ['id', 'region', 'endpoint', 'gateway', 'version', 'status', 'last_seen', 'machines', 'peers', 'newest_handshake'],
  );
  printReports(out.hosts, Date.now());
  return 0;
}

interface HostLoad {
  machines: number;
  started: number;
  failed: number;
  peers: number;
  /** unix seconds of the newest developer-peer handshake its gateway reported */
  newestHandshake: number | null;
}

const emptyLoad = (): HostLoad => ({ machines: 0, started: 0, failed: 0, peers: 0, newestHandshake: null });

/** Machines and developer peers per host, as far as the token may see (an org token: its org). */
async function hostLoad(api: ReturnType<typeof client>): Promise<Map<number, HostLoad>> {
  const out = new Map<number, HostLoad>();
  const at = (id: number): HostLoad => out.get(id) ?? (out.set(id, emptyLoad()), out.get(id)!);
  const orgs = await api.listOrgs().then(
    (r) => r.orgs.map((o) => o.name),
    () => [] as string[],
  );
  for (const org of orgs) {
    for (const app of (await api.listApps(org)).apps) {
      for (const m of (await api.listMachines(app.name)).machines) {
        const l = at(m.host_id);
        l.machines++;
        if (m.state === 'started') l.started++;
        if (m.state === 'failed') l.failed++;
      }
    }
    // Handshake ages of the first 200 peers per org: enough to show life, bounded in calls.
    for (const p of (await api.listPeers(org)).peers.slice(0, 200)) {
      const l = at(p.host_id);
      l.peers++;
      const st = (await api.getPeer(org, p.name)).status;
      if (st && st.latest_handshake > 0 && (l.newestHandshake === null || st.latest_handshake > l.newestHandshake)) l.newestHandshake = st.latest_handshake;
    }
  }
  return out;
}
