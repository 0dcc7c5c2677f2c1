// API tokens: only their SHA-256 is stored; the secret is shown once, at creation.
import { createHash, randomBytes } from 'node:crypto';
import { notFound } from '../errors.js';
import type { Scope, TokenInfo } from '../model/auth.js';
import { requireOrg } from './orgs.js';
import { now, type Tx } from './sql.js';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new token (`sixpn_<scope>_<secret>`); the org, when given, must exist. */
export async function createToken(tx: Tx, input: { scope: Scope; org?: string | null; host_id?: number | null }): Promise<{ id: string; token: string }> {
  const id = randomBytes(6).toString('hex');
  const token = `sixpn_${input.scope.replace('-', '')}_${randomBytes(24).toString('base64url')}`;
  if (input.org) await requireOrg(tx, input.org);
  await tx.run('INSERT INTO tokens (id, hash, scope, org, host_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [id, hashToken(token), input.scope, input.org ?? null, input.host_id ?? null, now()]);
  return { id, token };
}

/** Who an unrevoked token speaks for; null for an unknown or revoked one. */
export async function resolveToken(tx: Tx, secret: string): Promise<TokenInfo | null> {
  const r = await tx.get<{ id: string; scope: Scope; org: string | null; host_id: number | string | null }>(
    'SELECT id, scope, org, host_id FROM tokens WHERE hash = ? AND revoked_at IS NULL', [hashToken(secret)]);
  return r ? { id: r.id, scope: r.scope, org: r.org, host_id: r.host_id === null ? null : Number(r.host_id) } : null;
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
