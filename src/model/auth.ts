// Who a bearer token speaks for. Shared by the store (which keeps tokens)
// and the coordinator (which checks scopes on every request).

export type Scope = 'admin' | 'org' | 'wireguard' | 'host-enroll' | 'reader' | 'host';
export const SCOPES: readonly Scope[] = ['admin', 'org', 'wireguard', 'host-enroll', 'reader', 'host'];

/** A valid (unrevoked) token as the store resolved it; `org` set for org-bound scopes, `host_id` for `host`. */
export interface TokenInfo { id: string; scope: Scope; org: string | null; host_id: number | null }
