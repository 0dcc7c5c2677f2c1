// API tokens: only their SHA-256 is stored; the secret is shown once, at creation.
import { createHash, randomBytes } from 'node:crypto';
import { notFound } from '../errors.js';
import type { Scope, TokenInfo, TokenRecord } from '../model/auth.js';
import { requireOrg } from './orgs.js';
import { now, type Tx } from './sql.js';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new token (`sixpn_<scope>_<secret>`); the org, when given, must exist. */
export async function createToken(
  tx: Tx,
  input: { scope: Scope; org?: string | null; host_id?: number | null; app?: string | null; expires_at?: string | null },
): Promise<{ id: string; token: string }> {
  const id = randomBytes(6).toString('hex');
  const token = `sixpn_${input.scope.replace('-', '')}_${randomBytes(24).toString('base64url')}`;
  if (input.org) await requireOrg(tx, input.org);
  await tx.run('INSERT INTO tokens (id, hash, scope, org, host_id, app, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    id,
    hashToken(token),
    input.scope,
    input.org ?? null,
    input.host_id ?? null,
    input.app ?? null,
    input.expires_at ?? null,
    now(),
  ]);
  return { id, token };
}

/** Who an unrevoked token speaks for (an expired one too: the caller answers token_expired); null for an unknown or revoked one. */
export async function resolveToken(tx: Tx, secret: string): Promise<TokenInfo | null> {
  const r = await tx.get<TokenRow>('SELECT id, scope, org, host_id, app, expires_at FROM tokens WHERE hash = ? AND revoked_at IS NULL', [hashToken(secret)]);
  return r ? toInfo(r) : null;
}

interface TokenRow {
  id: string;
  scope: Scope;
  org: string | null;
  host_id: number | string | null;
  app: string | null;
  expires_at: string | null;
  created_at?: string;
  last_used_at?: string | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  scope: r.scope,
  org: r.org,
  host_id: r.host_id === null ? null : Number(r.host_id),
  app: r.app ?? null,
  expires_at: r.expires_at ?? null,
});

const RECORD_COLS = 'id, scope, org, host_id, app, expires_at, created_at, last_used_at';
const toRecord = (r: TokenRow): TokenRecord => ({ ...toInfo(r), created_at: r.created_at!, last_used_at: r.last_used_at ?? null });

/** Unrevoked tokens (expired ones included), oldest first; one org's when `org` is given. */
export async function listTokens(tx: Tx, org?: string): Promise<TokenRecord[]> {
  const rows =
    org === undefined
      ? await tx.all<TokenRow>(`SELECT ${RECORD_COLS} FROM tokens WHERE revoked_at IS NULL ORDER BY created_at, id`)
      : await tx.all<TokenRow>(`SELECT ${RECORD_COLS} FROM tokens WHERE revoked_at IS NULL AND org = ? ORDER BY created_at, id`, [org]);
  return rows.map(toRecord);
}

/** One unrevoked token by id, or null. */
export async function findToken(tx: Tx, id: string): Promise<TokenRecord | null> {
  const r = await tx.get<TokenRow>(`SELECT ${RECORD_COLS} FROM tokens WHERE id = ? AND revoked_at IS NULL`, [id]);
  return r ? toRecord(r) : null;
}

/** Record that these tokens were used at `at` (callers throttle: this is not written per request). */
export async function touchTokens(tx: Tx, ids: readonly string[], at: string): Promise<void> {
  for (const id of ids) await tx.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [at, id]);
}

/** Tokens revoked at or after `since` (ISO time), for coordinators that did not revoke them themselves. */
export async function revokedSince(tx: Tx, since: string): Promise<{ id: string; revoked_at: string }[]> {
  return tx.all<{ id: string; revoked_at: string }>('SELECT id, revoked_at FROM tokens WHERE revoked_at >= ? ORDER BY revoked_at', [since]);
}

export async function revokeToken(tx: Tx, id: string): Promise<void> {
  const r = await tx.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now(), id]);
  if (r.changes === 0) throw notFound('token', id);
}

export async function hasAdminToken(tx: Tx): Promise<boolean> {
  return !!(await tx.get("SELECT 1 FROM tokens WHERE scope = 'admin' AND revoked_at IS NULL"));
}

/** Revoke every live credential of a host (re-enrollment, removal). */
export async function revokeHostTokens(tx: Tx, hostId: number): Promise<void> {
  await tx.run("UPDATE tokens SET revoked_at = ? WHERE scope = 'host' AND host_id = ? AND revoked_at IS NULL", [now(), hostId]);
}
