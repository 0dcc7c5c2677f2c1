// App-wide leases: at most one holder per (app, name), by construction —
// every write runs in the store's one serialized write transaction. The row
// outlives its holders so `fence` keeps growing with each new holder. The
// holder's machine record lists the names it holds (`leases`), which is what
// the feed carries to DNS (`NAME.lease.<app>.internal`); renewals touch only
// the row, so they publish nothing.
import { AppError } from '../errors.js';
import type { Lease, Machine } from '../model/types.js';
import { requireMachine, saveMachine } from './machines.js';
import type { Tx } from './sql.js';

interface LeaseRow {
  app: string;
  name: string;
  holder: string | null;
  expires_at: string | null;
  fence: number | string;
}

const toLease = (r: LeaseRow): Lease => ({ app: r.app, name: r.name, holder: r.holder, expires_at: r.expires_at, fence: Number(r.fence) });

/** The lease as it stands at `nowIso`: an expired holder reads as none. */
function current(r: LeaseRow | undefined, app: string, name: string, nowIso: string): Lease {
  if (!r) return { app, name, holder: null, expires_at: null, fence: 0 };
  const l = toLease(r);
  return l.holder !== null && l.expires_at !== null && l.expires_at <= nowIso ? { ...l, holder: null, expires_at: null } : l;
}

function getRow(tx: Tx, app: string, name: string): Promise<LeaseRow | undefined> {
  return tx.get<LeaseRow>('SELECT app, name, holder, expires_at, fence FROM leases WHERE app = ? AND name = ?', [app, name]);
}

export async function readLease(tx: Tx, app: string, name: string, nowMs = Date.now()): Promise<Lease> {
  return current(await getRow(tx, app, name), app, name, new Date(nowMs).toISOString());
}

/** What a lease write did: the lease now, whether the caller holds it, and the machines whose `leases` changed. */
export interface LeaseWrite {
  lease: Lease;
  held: boolean;
  machines: Machine[];
}

async function setHeld(tx: Tx, id: string, name: string, held: boolean): Promise<Machine | null> {
  const m = await requireMachine(tx, id).catch(() => null);
  if (!m) return null;
  const names = new Set(m.leases ?? []);
  if (held === names.has(name)) return null;
  if (held) names.add(name);
  else names.delete(name);
  m.leases = [...names].sort();
  return saveMachine(tx, m, false);
}

/**
 * Acquire or renew lease `name` of the machine's app for `ttl` seconds. A
 * live holder other than the caller keeps it (held: false). Only a started
 * machine that is not critical may hold a lease.
 */
export async function acquireLease(tx: Tx, machineId: string, name: string, ttl: number, nowMs = Date.now()): Promise<LeaseWrite> {
  const m = await requireMachine(tx, machineId);
  if (m.state !== 'started') throw new AppError('conflict', `machine ${m.id} is ${m.state}: only a started machine holds leases`);
  if (m.health === 'critical') throw new AppError('conflict', `machine ${m.id} fails its checks: a critical machine holds no lease`);
  const nowIso = new Date(nowMs).toISOString();
  const row = await getRow(tx, m.app, name);
  const cur = current(row, m.app, name, nowIso);
  if (cur.holder !== null && cur.holder !== m.id) return { lease: cur, held: false, machines: [] };
  const expires = new Date(nowMs + ttl * 1000).toISOString();
  if (cur.holder === m.id) {
    await tx.run('UPDATE leases SET expires_at = ? WHERE app = ? AND name = ?', [expires, m.app, name]);
    return { lease: { ...cur, expires_at: expires }, held: true, machines: [] };
  }
  const fence = cur.fence + 1;
  if (row) await tx.run('UPDATE leases SET holder = ?, expires_at = ?, fence = ? WHERE app = ? AND name = ?', [m.id, expires, fence, m.app, name]);
  else await tx.run('INSERT INTO leases (app, name, holder, expires_at, fence) VALUES (?, ?, ?, ?, ?)', [m.app, name, m.id, expires, fence]);
  const changed: Machine[] = [];
  // an expired holder that was never swept loses the name first
  if (row?.holder && row.holder !== m.id) {
    const old = await setHeld(tx, row.holder, name, false);
    if (old) changed.push(old);
  }
  const me = await setHeld(tx, m.id, name, true);
  if (me) changed.push(me);
  return { lease: { app: m.app, name, holder: m.id, expires_at: expires, fence }, held: true, machines: changed };
}

/** Release lease `name` if the machine holds it; another live holder's lease is not the caller's to end. */
export async function releaseLease(tx: Tx, machineId: string, name: string, nowMs = Date.now()): Promise<LeaseWrite> {
  const m = await requireMachine(tx, machineId);
  const row = await getRow(tx, m.app, name);
  const cur = current(row, m.app, name, new Date(nowMs).toISOString());
  if (cur.holder !== null && cur.holder !== m.id) return { lease: cur, held: false, machines: [] };
  const changed: Machine[] = [];
  if (row?.holder) {
    await tx.run('UPDATE leases SET holder = NULL, expires_at = NULL WHERE app = ? AND name = ?', [m.app, name]);
    const old = await setHeld(tx, row.holder, name, false);
    if (old) changed.push(old);
  }
  return { lease: { ...cur, holder: null, expires_at: null }, held: true, machines: changed };
}

/** End every lease past its expiry; the machines that lost one. */
export async function expireLeases(tx: Tx, nowMs = Date.now()): Promise<Machine[]> {
  const nowIso = new Date(nowMs).toISOString();
  const rows = await tx.all<LeaseRow>('SELECT app, name, holder, expires_at, fence FROM leases WHERE holder IS NOT NULL AND expires_at <= ?', [nowIso]);
  const changed = new Map<string, Machine>();
  for (const r of rows) {
    await tx.run('UPDATE leases SET holder = NULL, expires_at = NULL WHERE app = ? AND name = ?', [r.app, r.name]);
    const m = await setHeld(tx, r.holder!, r.name, false);
    if (m) changed.set(m.id, m);
  }
  return [...changed.values()];
}

/** When the next held lease expires (ms since the epoch), or null. */
export async function nextExpiry(tx: Tx): Promise<number | null> {
  const r = await tx.get<{ t: string | null }>('SELECT MIN(expires_at) AS t FROM leases WHERE holder IS NOT NULL');
  return r?.t ? Date.parse(r.t) : null;
}
