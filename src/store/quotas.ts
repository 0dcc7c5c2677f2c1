// Per-org quotas, set on the coordinator. Each is checked inside the write
// transaction right after the insert it limits: every write holds the global
// write lock (SQLite's one writer, PostgreSQL's revision row lock), so the
// count sees every committed create and concurrent creates cannot exceed it.
import { AppError } from '../errors.js';
import { now, type SqlValue, type Tx } from './sql.js';

export interface Quotas {
  /** live (not destroyed) machines */
  machines: number;
  /** networks, the default one included */
  networks: number;
  /** developer peers */
  peers: number;
  /** live (unrevoked, unexpired) tokens bound to the org (org, wireguard) */
  tokens: number;
}

export type QuotaKind = keyof Quotas;

export const DEFAULT_QUOTAS: Quotas = { machines: 10_000, networks: 16, peers: 1000, tokens: 1000 };

/** Bounds for the flags: at least 1 (an org has its default network), at most a million. */
export const QUOTA_MIN = 1;
export const QUOTA_MAX = 1_000_000;

const COUNT: Record<QuotaKind, { sql: string; params: (org: string) => SqlValue[] }> = {
  machines: { sql: "SELECT COUNT(*) AS n FROM machines WHERE org = ? AND state <> 'destroyed'", params: (org) => [org] },
  networks: { sql: 'SELECT COUNT(*) AS n FROM networks WHERE org = ?', params: (org) => [org] },
  peers: { sql: 'SELECT COUNT(*) AS n FROM peers WHERE org = ?', params: (org) => [org] },
  // Expired tokens stay as records (tokens list shows them) but no longer take a place.
  tokens: {
    sql: 'SELECT COUNT(*) AS n FROM tokens WHERE org = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
    params: (org) => [org, now()],
  },
};

/** After an insert: throws `quota_exceeded` (429) when the org now holds more than its quota (the caller's transaction rolls back). */
export async function enforceQuota(tx: Tx, quotas: Quotas, kind: QuotaKind, org: string): Promise<void> {
  const limit = quotas[kind];
  const q = COUNT[kind];
  const n = Number((await tx.get<{ n: number | string }>(q.sql, q.params(org)))!.n);
  if (n > limit) {
    throw new AppError(
      'quota_exceeded',
      `org ${org} has reached its quota of ${limit} ${kind} (the coordinator's --quota-${kind}); remove some or ask the operator to raise it`,
    );
  }
}
