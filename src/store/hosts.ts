// Hosts: enrolled WireGuard hosts, some of them gateways for developer peers.
// `machine_count` (live machines) is kept here for placement. A host keeps
// the id of its current credential (revoked on re-enrollment and removal),
// the time it was last heard from (heartbeats; not part of the feed) and,
// once removed, when: a removed host's row stays (its machines, now `lost`,
// still name it) but it is gone from every list, the feed and placement.
import { AppError, notFound } from '../errors.js';
import type { Candidate } from '../addr/placement.js';
import type { HostReport, HostReportView } from '../model/host-report.js';
import type { Host } from '../model/types.js';
import { deleteHostReport, REPORT_COLUMNS, REPORT_JOIN, toReportView, writeHostReport, type ReportRow } from './host-reports.js';
import { requireRegion } from './regions.js';
import { nextId } from './sequences.js';
import { now, type Tx } from './sql.js';
import { createToken, revokeHostTokens } from './tokens.js';

interface HostRow extends ReportRow {
  id: number | string;
  region: string;
  endpoint: string;
  public_key: string;
  gateway: number | string;
  version: string | null;
  created_at: string;
  credential_id?: string | null;
  last_seen_ms?: number | string | null;
  removed_at?: string | null;
}

const toHost = (r: HostRow): Host => ({
  id: Number(r.id),
  region: r.region,
  endpoint: r.endpoint,
  public_key: r.public_key,
  gateway: Number(r.gateway) === 1,
  version: r.version ?? null,
  created_at: r.created_at,
});

/**
 * Which hosts count as reachable: heard from at or after `cutoffMs` (epoch
 * ms). The facade makes it from the host timeout; ALWAYS_REACHABLE for none.
 */
export interface Liveness {
  cutoffMs: number;
}
export const ALWAYS_REACHABLE: Liveness = { cutoffMs: -1 };

const seenMs = (r: HostRow): number | null => (r.last_seen_ms === null || r.last_seen_ms === undefined ? null : Number(r.last_seen_ms));
const reachable = (r: HostRow, live: Liveness): boolean => (seenMs(r) ?? 0) >= live.cutoffMs;

/** A host as `hosts list` shows it: the record plus its credential id and liveness. */
export interface HostListed extends Host {
  credential_id: string | null;
  /** ISO time of the last heartbeat (or enrollment); null when never heard from */
  last_seen: string | null;
  status: 'reachable' | 'unreachable';
  /** what its agent last reported with its heartbeat; null: never (or an older agent) */
  report: HostReportView | null;
}

const toListed = (r: HostRow, live: Liveness, hosts?: ReadonlySet<number>): HostListed => {
  const seen = seenMs(r);
  return {
    ...toHost(r),
    credential_id: r.credential_id ?? null,
    last_seen: seen === null ? null : new Date(seen).toISOString(),
    status: reachable(r, live) ? 'reachable' : 'unreachable',
    report: toReportView(r, Date.now(), hosts),
  };
};

export interface EnrollInput {
  region: string;
  endpoint: string;
  public_key: string;
  gateway: boolean;
  version?: string | null;
}
export interface Enrolled {
  host: Host;
  credential: string;
  credential_id: string;
  created: boolean;
  changed: boolean;
}

/**
 * Enroll a host, or enroll the same key again (one transaction, with its
 * credential). Again is idempotent: a retry after a lost reply answers the
 * same host id and a fresh credential, the old one revoked. A different
 * region is refused, and so is a different endpoint or gateway role while
 * the host is still reachable (someone else holds that key, or the host
 * moved: it may take the record over once the old one is silent).
 */
export async function enrollHost(tx: Tx, input: EnrollInput, live: Liveness): Promise<Enrolled> {
  await requireRegion(tx, input.region);
  const at = Date.now();
  const was = await tx.get<HostRow>('SELECT * FROM hosts WHERE public_key = ?', [input.public_key]);
  if (was) return reenroll(tx, was, input, live, at);
  const id = await nextId(tx, 'host');
  const host: Host = {
    id,
    region: input.region,
    endpoint: input.endpoint,
    public_key: input.public_key,
    gateway: input.gateway,
    version: input.version ?? null,
    created_at: now(),
  };
  const cred = await createToken(tx, { scope: 'host', host_id: id });
  await tx.run(
    'INSERT INTO hosts (id, region, endpoint, public_key, gateway, version, created_at, credential_id, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [id, host.region, host.endpoint, host.public_key, host.gateway ? 1 : 0, host.version ?? null, host.created_at, cred.id, at],
  );
  return { host, credential: cred.token, credential_id: cred.id, created: true, changed: true };
}

async function reenroll(tx: Tx, was: HostRow, input: EnrollInput, live: Liveness, at: number): Promise<Enrolled> {
  const id = Number(was.id);
  if (was.removed_at) {
    throw new AppError(
      'conflict',
      `host ${id} with this public key was removed at ${was.removed_at}; a removed host's key does not enroll again: give the host a new key`,
    );
  }
  const old = toHost(was);
  if (old.region !== input.region) throw new AppError('conflict', `a host with this public key is already enrolled (host ${id}, in region ${old.region})`);
  if ((old.endpoint !== input.endpoint || old.gateway !== input.gateway) && reachable(was, live)) {
    throw new AppError(
      'conflict',
      `a host with this public key is already enrolled and reachable (host ${id} at ${old.endpoint}, gateway ${old.gateway}); ` +
        'enroll it with the same endpoint and role, or wait until it is silent past the host timeout',
    );
  }
  await revokeHostTokens(tx, id);
  const cred = await createToken(tx, { scope: 'host', host_id: id });
  const host: Host = { ...old, endpoint: input.endpoint, gateway: input.gateway, version: input.version ?? old.version ?? null };
  await tx.run('UPDATE hosts SET endpoint = ?, gateway = ?, version = ?, credential_id = ?, last_seen_ms = ? WHERE id = ?', [
    host.endpoint,
    host.gateway ? 1 : 0,
    host.version ?? null,
    cred.id,
    at,
    id,
  ]);
  const changed = host.endpoint !== old.endpoint || host.gateway !== old.gateway || host.version !== old.version;
  return { host, credential: cred.token, credential_id: cred.id, created: false, changed };
}

export interface HostPatch {
  endpoint?: string;
  gateway?: boolean;
  version?: string;
}

/** `changed` is false when the patch repeats what is stored (an agent restarting as it was): no revision then. */
export async function updateHost(tx: Tx, id: number, patch: HostPatch): Promise<{ host: Host; changed: boolean }> {
  const was = await requireHost(tx, id);
  const host = { ...was, ...patch };
  if (host.endpoint === was.endpoint && host.gateway === was.gateway && host.version === was.version) return { host: was, changed: false };
  await tx.run('UPDATE hosts SET endpoint = ?, gateway = ?, version = ? WHERE id = ?', [host.endpoint, host.gateway ? 1 : 0, host.version ?? null, id]);
  return { host, changed: true };
}

/** A heartbeat: the host is alive now. Bookkeeping only (no revision); false for an unknown or removed host. */
export async function touchHost(tx: Tx, id: number, atMs: number): Promise<boolean> {
  return (await tx.run('UPDATE hosts SET last_seen_ms = ? WHERE id = ? AND removed_at IS NULL', [atMs, id])).changes > 0;
}

/** A heartbeat with the agent's report when it sent one; false (nothing written) for an unknown or removed host. */
export async function heartbeat(tx: Tx, id: number, atMs: number, report?: HostReport): Promise<boolean> {
  if (!(await touchHost(tx, id, atMs))) return false;
  if (report) await writeHostReport(tx, id, report, atMs);
  return true;
}

/**
 * Mark the host removed and revoke its credentials. The caller has dealt
 * with its machines and peers (see the facade's removeHost).
 */
export async function markRemoved(tx: Tx, id: number): Promise<void> {
  await tx.run('UPDATE hosts SET removed_at = ?, machine_count = 0, credential_id = NULL WHERE id = ?', [now(), id]);
  await revokeHostTokens(tx, id);
  await deleteHostReport(tx, id);
}

export async function requireHost(tx: Tx, id: number): Promise<Host> {
  const r = await tx.get<HostRow>('SELECT * FROM hosts WHERE id = ? AND removed_at IS NULL', [id]);
  if (!r) throw notFound('host', id);
  return toHost(r);
}

export async function listHosts(tx: Tx): Promise<Host[]> {
  return (await tx.all<HostRow>('SELECT * FROM hosts WHERE removed_at IS NULL ORDER BY id')).map(toHost);
}

/** One page of listHosts, after the id `after` (keyset paging for a streamed snapshot). */
export async function hostsPage(tx: Tx, after: number | null, limit: number): Promise<Host[]> {
  return (await tx.all<HostRow>('SELECT * FROM hosts WHERE removed_at IS NULL AND id > ? ORDER BY id LIMIT ?', [after ?? -1, limit])).map(toHost);
}

export async function listHostsWithStatus(tx: Tx, live: Liveness): Promise<HostListed[]> {
  const rows = await tx.all<HostRow>(`SELECT h.*, ${REPORT_COLUMNS} FROM hosts h ${REPORT_JOIN} WHERE h.removed_at IS NULL ORDER BY h.id`);
  const ids = new Set(rows.map((r) => Number(r.id)));
  return rows.map((r) => toListed(r, live, ids));
}

export async function getHostWithStatus(tx: Tx, id: number, live: Liveness): Promise<HostListed> {
  const r = await tx.get<HostRow>(`SELECT h.*, ${REPORT_COLUMNS} FROM hosts h ${REPORT_JOIN} WHERE h.id = ? AND h.removed_at IS NULL`, [id]);
  if (!r) throw notFound('host', id);
  const ids = new Set((await tx.all<{ id: number | string }>('SELECT id FROM hosts WHERE removed_at IS NULL')).map((h) => Number(h.id)));
  return toListed(r, live, ids);
}

/** Gateways that may take a new peer: not removed, and reachable under `live`. */
export async function listGateways(tx: Tx, live: Liveness = ALWAYS_REACHABLE): Promise<Host[]> {
  return (await tx.all<HostRow>('SELECT * FROM hosts WHERE gateway = 1 AND removed_at IS NULL ORDER BY id')).filter((r) => reachable(r, live)).map(toHost);
}

/** Hosts of a region with their live-machine counts and reachability, for `placeMachine`. */
export async function machineHostCandidates(tx: Tx, region: string, live: Liveness = ALWAYS_REACHABLE): Promise<Candidate[]> {
  const rows = await tx.all<HostRow & { machine_count: number | string }>(
    'SELECT id, machine_count, last_seen_ms FROM hosts WHERE region = ? AND removed_at IS NULL ORDER BY machine_count, id',
    [region],
  );
  return rows.map((r) => ({ id: Number(r.id), region, load: Number(r.machine_count), reachable: reachable(r, live) }));
}

/** A machine was placed on (+1) or destroyed from (-1) the host. */
export async function countMachine(tx: Tx, hostId: number, delta: 1 | -1): Promise<void> {
  await tx.run(`UPDATE hosts SET machine_count = machine_count ${delta > 0 ? '+' : '-'} 1 WHERE id = ? AND removed_at IS NULL`, [hostId]);
}
