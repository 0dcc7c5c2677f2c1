// A PostgreSQL node of app `pg` (the machine's command, in its sandbox):
// real PostgreSQL 15 (pgserver.ts), and the role decided by the app-wide
// lease `primary` on the host's machine API (http://[fdaa:N:N::3], no
// token: the host knows the caller by its attachment).
//
//   - The node that gets the lease is the primary: a new cluster (initdb),
//     and it renews the lease every second. It accepts a commit only once
//     the standby has applied it (synchronous_commit = remote_apply).
//   - A node that finds the lease held is a replica: pg_basebackup from
//     `primary.lease.<app>.internal`, then streaming from that name.
//   - A replica watches the lease; when it ends (its holder stopped, or it
//     expired) the replica takes it, runs pg_promote() and restarts on its
//     mesh address (a standby serves only its unix socket: pgserver.ts).
//   - A primary that cannot renew (409, or no answer until the lease would
//     have expired) stops its server at once: it may have been replaced.
// No acknowledged commit is lost: each was applied on the replica before the
// client saw it, and once the replica is promoted it streams no more, so a
// deposed primary cannot acknowledge anything else.
// A node whose data dir is stale (it was a primary and another holds the
// lease now) moves it aside and clones the primary again (no pg_rewind).
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineApiBase } from './discover.js';
import { PgServer } from './pgserver.js';
import { serveStatus } from './status.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5432' },
    'status-port': { type: 'string', default: '5433' },
    ttl: { type: 'string', default: '5' },
    lease: { type: 'string', default: 'primary' },
  },
});
const PORT = Number(values.port);
const TTL = Number(values.ttl);
const LEASE = values.lease!;
const APP = process.env.SIXPN_APP_NAME ?? 'pg';
const ID = process.env.SIXPN_MACHINE_ID ?? '';
const WORK = process.env.SIXPN_WORK_DIR ?? process.cwd();
const API = machineApiBase();
const PRIMARY_HOST = `${LEASE}.lease.${APP}.internal`;
const RENEW_MS = 1000;
const WATCH_MS = 200;

const server = new PgServer({ work: WORK, address: process.env.SIXPN_PRIVATE_IP ?? '::1', port: PORT, id: ID });
let role: 'starting' | 'replica' | 'primary' | 'fenced' = 'starting';
let since = Date.now();
let following: string | null = null;
let fence: number | null = null;
let promoted: { at: number; ms: number } | null = null;
let version = '';
let stopping = false;

const say = (s: string): void => {
  process.stdout.write(`pgnode ${ID}: ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function become(r: typeof role): void {
  if (r === role) return;
  say(`role ${role} -> ${r}`);
  role = r;
  since = Date.now();
}

interface LeaseAnswer {
  status: number;
  holder: string | null;
  fence: number | null;
}

async function lease(method: 'PUT' | 'GET' | 'DELETE'): Promise<LeaseAnswer> {
  const path = method === 'GET' ? `/v1/leases/${LEASE}` : `/v1/self/leases/${LEASE}`;
  const res = await fetch(`${API}${path}`, {
    method,
    headers: method === 'PUT' ? { 'content-type': 'application/json' } : {},
    body: method === 'PUT' ? JSON.stringify({ ttl: TTL }) : undefined,
    signal: AbortSignal.timeout(2000),
  });
  const body = (await res.json().catch(() => ({}))) as { holder?: string | null; fence?: number };
  return { status: res.status, holder: body.holder ?? null, fence: body.fence ?? null };
}

/** Stop the server now and end: this node may no longer be the primary. */
async function fenceOff(why: string): Promise<never> {
  become('fenced');
  say(`fenced: ${why}`);
  await server.stop('immediate');
  process.exit(3);
}

async function boot(): Promise<void> {
  for (;;) {
    let got: LeaseAnswer;
    try {
      got = await lease('PUT');
    } catch (err) {
      say(`machine API: ${String(err)}; retrying`);
      await sleep(500);
      continue;
    }
    if (got.status === 200) {
      fence = got.fence;
      if (!server.initialized) await server.initdb();
      else await server.start('primary');
      become('primary');
      return;
    }
    if (got.status !== 409) {
      say(`lease: HTTP ${got.status}; retrying`);
      await sleep(500);
      continue;
    }
    if (server.initialized) {
      rmSync(`${server.data}.old`, { recursive: true, force: true });
      renameSync(server.data, `${server.data}.old`);
      say(`data dir moved to ${join(WORK, 'data.old')}: ${got.holder} is the primary`);
    }
    try {
      await server.basebackup(PRIMARY_HOST);
    } catch (err) {
      say(`pg_basebackup from ${PRIMARY_HOST}: ${String((err as { stderr?: string }).stderr || err).trim()}; retrying`);
      rmSync(server.data, { recursive: true, force: true });
      await sleep(500);
      continue;
    }
    await server.start('standby');
    become('replica');
    return;
  }
}

/** Replica: take the lease as soon as it is free, then promote. */
async function watchLease(): Promise<void> {
  while (role === 'replica' && !stopping) {
    try {
      const cur = await lease('GET');
      // (our own name: a promotion that failed half-way is tried again)
      if (cur.status === 200 && (cur.holder === null || cur.holder === ID)) {
        const t0 = Date.now();
        const got = await lease('PUT');
        if (got.status === 200) {
          fence = got.fence;
          say(`lease ${LEASE} taken (fence ${fence}): promoting`);
          const renewing = renew(t0); // renewed from now on, while the promotion runs too
          await server.sql('SELECT pg_promote(true, 30)');
          // Now open the mesh address (a standby takes no TCP clients: pgserver.ts says why).
          await server.stop('fast');
          await server.start('promoted');
          promoted = { at: Date.now(), ms: Date.now() - t0 };
          following = null;
          become('primary');
          return renewing;
        }
      }
      const rx = await server.sql<{ sender_host: string | null; status: string }>('SELECT sender_host, status FROM pg_stat_wal_receiver');
      following = rx[0]?.status === 'streaming' ? rx[0].sender_host : null;
    } catch (err) {
      say(`watching the lease: ${String(err)}`);
    }
    await sleep(WATCH_MS);
  }
}

/** Primary: renew every second; fenced off when another holds it or the lease may have expired. */
async function renew(since: number): Promise<void> {
  let okAt = since;
  while (!stopping) {
    await sleep(RENEW_MS);
    if (stopping) return;
    try {
      const r = await lease('PUT');
      if (r.status === 200) okAt = Date.now();
      else if (r.status === 409) await fenceOff(`lease ${LEASE} is held by ${r.holder ?? 'another machine'}`);
      else say(`renewing: HTTP ${r.status}`);
    } catch (err) {
      say(`renewing: ${String(err)}`);
    }
    // Stop before the coordinator could hand the lease on.
    if (Date.now() - okAt > TTL * 1000 - RENEW_MS) await fenceOff(`lease ${LEASE} not renewed for ${Date.now() - okAt} ms`);
  }
}

async function main(): Promise<void> {
  serveStatus(Number(values['status-port']), () => ({ id: ID, role, since, following, fence, promoted, version }));
  await boot();
  version = (await server.sql<{ version: string }>('SELECT version()'))[0]!.version;
  say(`${role}: ${version}`);
  server.onCrash = (code) => {
    if (stopping || role === 'fenced') return;
    say(`postgres exited with ${code}`);
    process.exit(1);
  };
  if (role === 'replica') await watchLease();
  else if (role === 'primary') await renew(Date.now());
}

// Stopped (`machines stop`): a fast shutdown lets the WAL sender hand the standby what it has.
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void server
    .stop('fast')
    .catch(() => undefined)
    .then(() => (role === 'primary' ? lease('DELETE').catch(() => undefined) : undefined))
    .finally(() => process.exit(0));
});

main().catch((err: unknown) => {
  say(`failed: ${String((err as Error)?.stack ?? err)}`);
  void server.stop('immediate').finally(() => process.exit(1));
});
