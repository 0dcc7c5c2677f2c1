// The PostgreSQL failover, shared by `npm run demo:cluster` (which narrates
// it) and test/e2e/cluster.test.ts (which asserts on what it measured): a
// primary in one region and a streaming replica in another (machines of app
// `pg`), two clients writing through `primary.lease.pg.internal`, psql
// through both libpq forms; then the primary's machine is stopped and the
// replica takes the lease and promotes itself.
import type { Machine } from '../../src/model/types.js';
import { PORTS, type ClientStatus, type ClusterWorld, type PgStatus } from './world.js';

/** The two libpq forms clients use. */
export const VIA_LEASE = 'host=primary.lease.pg.internal';
export const VIA_APP = 'host=pg.internal target_session_attrs=read-write';

export interface PgFailover {
  primary: Machine;
  replica: Machine;
  clients: Machine[];
  /** `SELECT version()` through VIA_LEASE */
  version: string;
  /** before the stop: primary.lease.pg.internal, the server each libpq form wrote to, the standby as the primary sees it */
  before: { lease: string[]; viaLease: string; viaApp: string; standby: string; replicaInRecovery: string; replicaHasRow: boolean };
  /** ms from the stop to the first commit acknowledged by the new primary (the earliest client), and per client */
  failoverMs: number;
  perClientMs: number[];
  /** acknowledged commits (clients and psql), and how many of them are not in the table afterwards */
  acked: number;
  lost: number;
  rows: number;
  after: { lease: string[]; viaApp: string; inRecovery: string; replica: PgStatus | null };
}

let psqlSeq = 0;
/** A shell word, single-quoted (the demo prints commands one can paste). */
const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

export async function pgFailover(
  w: ClusterWorld,
  say: (line: string) => void = () => undefined,
  regions = { primary: 'ams', replica: 'iad' },
): Promise<PgFailover> {
  const lab = w.lab;
  const role = (m: Machine) => w.status<PgStatus>(m, PORTS.pgStatus);
  const nodeUp = (m: Machine, want: PgStatus['role']) =>
    lab
      .until(`pg ${m.id} ${want}`, async () => ((await role(m))?.role === want ? true : false), 90_000, 250)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n  its output: ${w.output(m).slice(-8).join('\n  ')}`);
      });

  const primary = await w.pgNode(regions.primary);
  say(`  pg ${primary.id} in ${primary.region}: takes lease primary, initdb, postgres on [${primary.address}]:${PORTS.pg}`);
  await nodeUp(primary, 'primary');
  const replica = await w.pgNode(regions.replica);
  say(`  pg ${replica.id} in ${replica.region}: finds the lease held, pg_basebackup from primary.lease.pg.internal, streams`);
  await nodeUp(replica, 'replica');
  const clients = await Promise.all(['iad', 'nrt'].map((r) => w.pgClient(r)));
  const q = clients[0]!;
  const psql = (conninfo: string, sql: string) => {
    say(`$ psql ${shq(conninfo)} -c ${shq(sql)}`);
    return w.psql(q, conninfo, sql);
  };
  const standby = await lab.until(
    'the standby streams, synchronous',
    async () => {
      const rows = await w.psql(q, VIA_LEASE, 'SELECT application_name, state, sync_state FROM pg_stat_replication');
      return rows.length === 1 && rows[0]!.endsWith('|streaming|sync') ? rows[0]! : false;
    },
    60_000,
    250,
  );
  say(`  the primary's standby: ${standby} (synchronous_commit = remote_apply)`);
  const version = (await psql(VIA_LEASE, 'SELECT version()'))[0]!;
  say(version);

  // Both libpq forms write to the primary; the row is on the replica when the commit returns.
  const insert = (conninfo: string) => psql(conninfo, `INSERT INTO acks (client, seq) VALUES ('psql', ${++psqlSeq}) RETURNING host(inet_server_addr())`);
  const viaLease = (await insert(VIA_LEASE))[0]!;
  const viaApp = (await insert(VIA_APP))[0]!;
  // The standby serves its unix socket only (pgserver.ts says why).
  const replicaHasRow = (await w.psqlLocal(replica, `SELECT count(*) FROM acks WHERE client = 'psql' AND seq = ${psqlSeq}`))[0] === '1';
  const replicaInRecovery = (await w.psqlLocal(replica, 'SELECT pg_is_in_recovery()'))[0]!;
  say(`  written via ${VIA_LEASE}: ${viaLease}; via ${VIA_APP}: ${viaApp}; on the replica at once: ${replicaHasRow}`);
  const lease = (await lab.dig(q.id, 'primary.lease.pg.internal')).answers;

  const clientStatus = (c: Machine) => w.status<ClientStatus>(c, PORTS.clientStatus);
  await lab.until('the clients write', async () => (await Promise.all(clients.map(clientStatus))).every((s) => (s?.acked.length ?? 0) >= 20), 60_000, 250);
  say(`  clients in ${clients.map((c) => c.region).join(' and ')} write through ${VIA_LEASE} (npm pg), one INSERT after another`);

  say(`stopping the primary (machines stop ${primary.id})…`);
  const stopAt = Date.now();
  await w.stop(primary);
  const perClientMs = await Promise.all(
    clients.map((c) =>
      lab.until(
        `client ${c.region} writes to the new primary`,
        async () => {
          const h = (await clientStatus(c))?.history.find((x) => x.at >= stopAt && x.primary === replica.address);
          return h ? h.at - stopAt : false;
        },
        30_000,
        100,
      ),
    ),
  );
  const failoverMs = Math.min(...perClientMs);

  // Every commit a client saw acknowledged (read first), against the rows there now.
  const statuses = (await Promise.all(clients.map(clientStatus))).map((s, i) => {
    if (!s) throw new Error(`client ${clients[i]!.id} does not answer`);
    return s;
  });
  const afterApp = (await insert(VIA_APP))[0]!;
  const rows = new Set(await w.psql(q, VIA_APP, 'SELECT client || $$/$$ || seq FROM acks'));
  const ackedKeys = [...statuses.flatMap((s) => s.acked.map((n) => `${s.id}/${n}`)), ...Array.from({ length: psqlSeq }, (_, i) => `psql/${i + 1}`)];
  const lost = ackedKeys.filter((k) => !rows.has(k)).length;
  const after = {
    lease: (await lab.dig(q.id, 'primary.lease.pg.internal')).answers,
    viaApp: afterApp,
    inRecovery: (await w.psql(q, VIA_APP, 'SELECT pg_is_in_recovery()'))[0]!,
    replica: await role(replica),
  };
  say(
    `  clients on the new primary ${perClientMs.join(' / ')} ms after the stop; pg_promote() and the restart on the mesh address took ${after.replica?.promoted?.ms ?? '?'} ms`,
  );
  return {
    primary,
    replica,
    clients,
    version,
    before: { lease, viaLease, viaApp, standby, replicaInRecovery, replicaHasRow },
    failoverMs,
    perClientMs,
    acked: ackedKeys.length,
    lost,
    rows: rows.size,
    after,
  };
}

/** The one line the demo prints. */
export const failoverLine = (r: PgFailover): string => `postgres failover: ${r.failoverMs} ms, acknowledged commits lost: ${r.lost}`;
