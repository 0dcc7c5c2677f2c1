// The clusters' world, shared by `npm run demo:cluster` and
// test/e2e/cluster.test.ts: a MeshLab with three regions (real agents,
// wireguard-go, nftables), one org, the Temporal-shaped and database-shaped
// apps, machines started with `command` (the `machines run` path) running
// the programs next to this file, and helpers to ask those programs what
// they see through their JSON status ports.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from '../../src/model/types.js';
import { regionDistanceKm, REGIONS as ALL_REGIONS } from '../../src/model/regions.js';
import { MeshLab } from '../../lab/meshlab.js';
import { Laptop } from './laptop.js';

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
export const SCRIPTS = { member: here('./member.js'), worker: here('./worker.js'), pgnode: here('./pgnode.js'), pgclient: here('./pgclient.js') };

export const REGIONS = ['ams', 'iad', 'nrt'] as const;
export const ORG = 'acme';
export const TEMPORAL = ['temporal-frontend', 'temporal-history', 'temporal-matching'] as const;
export const APPS = [...TEMPORAL, 'temporal-worker', 'pg', 'pg-client'] as const;
/** The programs' ports (status = JSON on `GET /`). */
export const PORTS = { member: 7233, memberStatus: 7234, workerStatus: 7300, pg: 5432, pgStatus: 5433, clientStatus: 5500 } as const;
/** The pg nodes' lease `primary` (seconds): the failover target is this plus 2 s. */
export const PG_LEASE_TTL = 5;

export interface MemberStatus {
  self: { id: string; app: string; region: string; ip: string };
  members: string[];
  changedAt: number;
}
export interface WorkerStatus {
  self: string;
  region: string;
  nearest: string | null;
  nearestIp: string | null;
  addresses: string[];
  all: string[];
  at: number;
}
/** What a pg node reports (examples/cluster/pgnode.ts). */
export interface PgStatus {
  id: string;
  role: 'starting' | 'replica' | 'primary' | 'fenced';
  since: number;
  /** the primary a replica streams from (its address), while streaming */
  following: string | null;
  fence: number | null;
  /** when this replica promoted itself, and how long pg_promote() took */
  promoted: { at: number; ms: number } | null;
  version: string;
}
/** What a pg client reports (examples/cluster/pgclient.ts). */
export interface ClientStatus {
  id: string;
  /** the address of the server that acknowledged the last commit */
  primary: string | null;
  history: { primary: string | null; at: number }[];
  /** every seq whose commit was acknowledged */
  acked: number[];
  sent: number;
  errors: number;
  lastError: string | null;
}

/** `app/id`, as members name each other. */
export const memberName = (m: Pick<Machine, 'app' | 'id'>): string => `${m.app}/${m.id}`;

/** The region among `candidates` nearest to `from` (great-circle distance, as the DNS server ranks). */
export function nearestRegion(from: string, candidates: readonly string[]): string {
  const r = (code: string) => ALL_REGIONS.find((x) => x.code === code)!;
  return [...candidates].sort((a, b) => regionDistanceKm(r(from), r(a)) - regionDistanceKm(r(from), r(b)))[0]!;
}

export class ClusterWorld {
  laptop: Laptop | null = null;

  private constructor(readonly lab: MeshLab) {}

  static async start(o: { keep?: boolean; logLevel?: string; agentArgs?: string[] } = {}): Promise<ClusterWorld> {
    const lab = await MeshLab.start({ keep: o.keep, logLevel: o.logLevel, agentArgs: o.agentArgs });
    const w = new ClusterWorld(lab);
    try {
      // ams also carries developer peers (the external worker).
      await Promise.all(REGIONS.map((r) => lab.addHost(r, { gateway: r === 'ams' })));
      await lab.api('POST', '/v1/orgs', { name: ORG });
      for (const app of APPS) await lab.api('POST', '/v1/apps', { name: app, org: ORG });
    } catch (err) {
      await w.destroy();
      throw err;
    }
    return w;
  }

  /** A machine running `node <script> args…` (it stops when the program exits). */
  run(app: string, region: string, script: string, args: string[] = []): Promise<Machine> {
    // A sandboxed command gets a private /tmp: programs in a checkout under /tmp are invisible to it.
    if (script.startsWith('/tmp/')) throw new Error(`${script} is under /tmp, which sandboxed machine commands cannot see: run from a checkout elsewhere`);
    return this.lab.createMachine(app, region, { command: [process.execPath, script, ...args] });
  }

  member(app: string, region: string): Promise<Machine> {
    return this.run(app, region, SCRIPTS.member, ['--port', String(PORTS.member), '--cluster', TEMPORAL.join(',')]);
  }

  worker(region: string): Promise<Machine> {
    return this.run('temporal-worker', region, SCRIPTS.worker, ['--port', String(PORTS.member), '--status-port', String(PORTS.workerStatus)]);
  }

  /** A PostgreSQL node (primary or replica, by lease `primary`). */
  pgNode(region: string): Promise<Machine> {
    return this.run('pg', region, SCRIPTS.pgnode, ['--port', String(PORTS.pg), '--status-port', String(PORTS.pgStatus), '--ttl', String(PG_LEASE_TTL)]);
  }

  pgClient(region: string): Promise<Machine> {
    return this.run('pg-client', region, SCRIPTS.pgclient, ['--port', String(PORTS.pg), '--status-port', String(PORTS.clientStatus)]);
  }

  async stop(m: Machine): Promise<void> {
    await this.lab.api('POST', `/v1/machines/${m.id}/stop`);
  }

  /** The namespace of the host carrying `m` (one host per region here). */
  hostNs(m: Pick<Machine, 'region'>): string {
    return this.lab.agent(m.region).host.ns;
  }

  /** GET a program's status port, from the namespace of the host carrying it; null when it does not answer. */
  async status<T>(m: Machine, port: number): Promise<T | null> {
    const r = await execa('ip', ['netns', 'exec', this.hostNs(m), 'curl', '-sf', '-m', '2', `http://[${m.address}]:${port}/`], { reject: false });
    if (r.exitCode !== 0) return null;
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      return null;
    }
  }

  /** `psql CONNINFO -c SQL` from inside machine `m` (libpq, resolving through the machine's DNS); the rows, `|`-separated. */
  async psql(m: Machine, conninfo: string, sql: string): Promise<string[]> {
    const r = await this.lab.inMachine(m.id, ['psql', `${conninfo} user=postgres dbname=postgres connect_timeout=3`, '-XAtq', '-c', sql], {
      reject: false,
      timeout: 20_000,
    });
    if (r.exitCode !== 0) throw new Error(`psql '${conninfo}': ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** psql as root on the host of pg node `m`, through its unix socket in the machine's work dir (a standby takes no TCP clients). */
  async psqlLocal(m: Machine, sql: string): Promise<string[]> {
    const dir = join(this.lab.agent(m.region).stateDir, 'work', m.id);
    const r = await execa('psql', [`host=${dir} port=${PORTS.pg} user=postgres dbname=postgres`, '-XAtq', '-c', sql], { reject: false, timeout: 20_000 });
    if (r.exitCode !== 0) throw new Error(`psql on ${m.id}'s socket: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** What the machine's program printed (the agent keeps it in its state dir). */
  output(m: Machine): string[] {
    const f = join(this.lab.agent(m.region).stateDir, 'machines', `${m.id}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
  }

  /**
   * Wait until every member in `members` reports exactly `members` (by
   * name), and return when the last of them saw its final membership.
   */
  async converged(members: Machine[], timeoutMs = 60_000): Promise<{ lastChangeAt: number; statuses: MemberStatus[] }> {
    const want = members.map(memberName).sort().join(' ');
    let seen: (MemberStatus | null)[] = [];
    try {
      return await this.lab.until(
        'membership converged',
        async () => {
          seen = await Promise.all(members.map((m) => this.status<MemberStatus>(m, PORTS.memberStatus)));
          if (!seen.every((s) => s && s.members.join(' ') === want)) return false;
          const statuses = seen as MemberStatus[];
          return { lastChangeAt: Math.max(...statuses.map((s) => s.changedAt)), statuses };
        },
        timeoutMs,
        200,
      );
    } catch (err) {
      const detail = seen.map((s, i) => `${members[i]!.id}: ${s ? `${s.members.length} ${s.members.join(' ')}` : 'no answer'}`).join('\n  ');
      throw new Error(`${(err as Error).message}\n want ${want}\n  ${detail}`);
    }
  }

  /** The external worker's laptop: a namespace on the underlay, a developer peer of app temporal-worker, wg-quick. */
  async startLaptop(): Promise<Laptop> {
    this.laptop = await Laptop.up(this.lab, { org: ORG, name: 'laptop', region: 'ams', app: 'temporal-worker' });
    return this.laptop;
  }

  /** Everything goes, also after a failure half-way. */
  async destroy(): Promise<void> {
    await this.laptop?.down().catch(() => undefined);
    this.laptop = null;
    await this.lab.destroy();
  }
}
