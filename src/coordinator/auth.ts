// Bearer-token authentication and scope checks.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Scope, TokenInfo } from '../model/auth.js';
import type { Store } from '../store/store.js';

declare module 'fastify' {
  interface FastifyRequest {
    token: TokenInfo | null;
  }
}

/** Short-lived cache: token lookups sit on every request; revocation takes effect within the TTL. */
export class TokenCache {
  private readonly entries = new Map<string, { info: TokenInfo | null; until: number }>();
  constructor(private readonly store: Store, private readonly ttlMs = 2000) {}

  async resolve(secret: string): Promise<TokenInfo | null> {
    const hit = this.entries.get(secret);
    const t = Date.now();
    if (hit && hit.until > t) return hit.info;
    const info = await this.store.resolveToken(secret);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(secret, { info, until: t + this.ttlMs });
    return info;
  }

  forget(): void {
    this.entries.clear();
  }
}

export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

/** The caller's token, or 401. */
export function caller(req: FastifyRequest): TokenInfo {
  if (!req.token) throw new AppError('unauthorized', req.headers.authorization ? 'unknown or revoked token' : 'missing bearer token');
  return req.token;
}

export function requireScope(req: FastifyRequest, ...scopes: Scope[]): TokenInfo {
  const t = caller(req);
  if (!scopes.includes(t.scope)) throw new AppError('forbidden', `a ${t.scope} token cannot do this (needs ${scopes.join(' or ')})`);
  return t;
}

/** admin, or an org-bound token of this org whose scope is listed. */
export function requireOrg(req: FastifyRequest, org: string, scopes: Scope[] = ['org']): TokenInfo {
  const t = caller(req);
  if (t.scope === 'admin') return t;
  if (!scopes.includes(t.scope)) throw new AppError('forbidden', `a ${t.scope} token cannot do this`);
  if (t.org !== org) throw new AppError('forbidden', `this token belongs to org ${t.org ?? '(none)'}, not ${org}`);
  return t;
}
