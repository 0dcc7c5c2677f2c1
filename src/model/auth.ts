// Who a bearer token speaks for. Shared by the store (which keeps tokens)
// and the coordinator (which checks scopes on every request).

export type Scope = 'admin' | 'org' | 'wireguard' | 'host-enroll' | 'reader' | 'host';
export const SCOPES: readonly Scope[] = ['admin', 'org', 'wireguard', 'host-enroll', 'reader', 'host'];

/**
 * An unrevoked token as the store resolved it; `org` set for org-bound scopes, `host_id` for `host`,
 * `app` for a wireguard token made for one app; `expires_at` (ISO time) when it expires.
 */
export interface TokenInfo {
  id: string;
  scope: Scope;
  org: string | null;
  host_id: number | null;
  app: string | null;
  expires_at: string | null;
}

/** A token as `GET /v1/tokens` lists it (never its secret or hash). */
export interface TokenRecord extends TokenInfo {
  created_at: string;
  last_used_at: string | null;
}

/** Whether a token has expired at `atMs` (epoch ms). */
export function isExpired(t: { expires_at: string | null }, atMs = Date.now()): boolean {
  return t.expires_at !== null && Date.parse(t.expires_at) <= atMs;
}
