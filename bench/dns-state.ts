// Generated state for the DNS benchmark, the equivalent Knot zone (what the
// benchmark's querier, org 0, sees), and the query mix.
import { randomBytes } from 'node:crypto';
import { machineAddress } from '../src/addr/plan.js';
import { REGIONS } from '../src/model/regions.js';
import type { App, Host, Machine, Network, Org, State } from '../src/model/types.js';

export const BENCH_REGIONS = ['iad', 'ams', 'syd', 'nrt', 'gru'];
const AT = '2025-01-01T00:00:00.000Z';

export interface BenchShape {
  orgs: number;
  appsPerOrg: number;
  machinesPerApp: number;
}

/** orgs × apps × machines started machines (plus one stopped per app), spread over 5 regions × 10 hosts. */
export function benchState(s: BenchShape): State {
  const hosts: Host[] = [];
  for (let h = 0; h < BENCH_REGIONS.length * 10; h++) {
    hosts.push({
      id: h + 1,
      region: BENCH_REGIONS[h % BENCH_REGIONS.length]!,
      endpoint: `192.0.2.${h + 1}:51820`,
      public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=',
      gateway: false,
      created_at: AT,
    });
  }
  const orgs: Org[] = [],
    networks: Network[] = [],
    apps: App[] = [],
    machines: Machine[] = [];
  let k = 0;
  for (let o = 0; o < s.orgs; o++) {
    const net = o + 1;
    const org = `org${o}`;
    orgs.push({ name: org, network_id: net, created_at: AT });
    networks.push({ id: net, org, name: 'default', created_at: AT });
    for (let a = 0; a < s.appsPerOrg; a++) {
      const app = `o${o}app${a}`;
      apps.push({ name: app, org, network_id: net, created_at: AT });
      for (let m = 0; m <= s.machinesPerApp; m++) {
        const field = 0x10000000 + k;
        const host = hosts[k % hosts.length]!;
        k++;
        machines.push({
          id: `${field.toString(16)}${((k * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(0, 6)}`,
          app,
          org,
          network_id: net,
          host_id: host.id,
          region: host.region,
          address: machineAddress(net, host.id, field),
          state: m === s.machinesPerApp ? 'stopped' : 'started',
          reason: null,
          group: m % 3 === 0 ? 'worker' : 'app',
          metadata: m === 0 ? { role: 'primary' } : {},
          command: null,
          created_at: AT,
          updated_at: AT,
        });
      }
    }
  }
  return { regions: [...REGIONS], orgs, networks, apps, hosts, machines, peers: [] };
}

function txt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(' ');
}

/** The `internal.` zone as org 0 (network 1) sees it, for Knot. */
export function benchZone(state: State, networkId = 1): string {
  const lines: string[] = [];
  const apps = state.apps
    .filter((a) => a.network_id === networkId)
    .map((a) => a.name)
    .sort();
  lines.push(`_apps IN TXT ${txt(apps.join(','))}`);
  for (const app of apps) {
    const all = state.machines.filter((m) => m.app === app).sort((a, b) => (a.id < b.id ? -1 : 1));
    const started = all.filter((m) => m.state === 'started');
    for (const m of started) {
      lines.push(
        `${app} IN AAAA ${m.address}`,
        `global.${app} IN AAAA ${m.address}`,
        `${m.region}.${app} IN AAAA ${m.address}`,
        `${m.id}.vm.${app} IN AAAA ${m.address}`,
      );
    }
    lines.push(`vms.${app} IN TXT ${txt(started.map((m) => `${m.id} ${m.region}`).join(','))}`);
    lines.push(`regions.${app} IN TXT ${txt([...new Set(started.map((m) => m.region))].sort().join(','))}`);
    lines.push(`all.vms.${app} IN TXT ${txt(all.map((m) => `${m.id} ${m.region}`).join(','))}`);
  }
  return lines.join('\n');
}

/** dnsperf input: app AAAA, region AAAA, TXT, NXDOMAIN in equal parts. */
export function benchQueries(state: State, networkId = 1): string[] {
  const apps = state.apps
    .filter((a) => a.network_id === networkId)
    .map((a) => a.name)
    .sort();
  const out: string[] = [];
  apps.forEach((app, i) => {
    out.push(`${app}.internal AAAA`);
    out.push(`${BENCH_REGIONS[i % BENCH_REGIONS.length]}.${app}.internal AAAA`);
    out.push(i % 2 ? `vms.${app}.internal TXT` : `regions.${app}.internal TXT`);
    out.push(`nx${i}.internal AAAA`);
  });
  return out;
}

/**
 * The miss-path mix: the names of `known` alternating with names nobody
 * registered (`<random>.internal` and `<random>.<app>.internal`, NXDOMAIN),
 * `total` lines. A new file each run, so no random name is ever cached.
 */
export function halfRandomQueries(known: readonly string[], apps: readonly string[], total: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    if (i % 2 === 0) {
      out.push(known[(i / 2) % known.length]!);
      continue;
    }
    const label = randomBytes(6).toString('hex');
    out.push(i % 4 === 1 ? `${label}.internal AAAA` : `${label}.${apps[(i >> 2) % apps.length]}.internal AAAA`);
  }
  return out;
}
