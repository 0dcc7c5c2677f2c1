// Bearer-token authentication and scope checks.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { isExpired, type Scope, type TokenInfo } from '../model/auth.js';
import type { Store } from '../store/store.js';

declare module 'fastify' {
  interface FastifyRequest {
    token: TokenInfo | null;
  }
}

/** Short-lived cache: token lookups sit on every request; revocation takes effect within the TTL. */
export class TokenCache {
  private readonly entries = new Map<string, { info: TokenInfo | null; until: number }>();
  constructor(
    private readonly store: Store,
    private readonly ttlMs = 2000,
  ) {}

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

/** The caller's token, or 401 (`token_expired` for one whose ttl has passed). */
export function caller(req: FastifyRequest): TokenInfo {
  if (!req.token) throw new AppError('unauthorized', req.headers.authorization ? 'unknown or revoked token' : 'missing bearer token');
  if (isExpired(req.token)) throw new AppError('token_expired', `the token expired at ${req.token.expires_at}`);
  return req.token;
}

/**
 * Last-used times, cheaply: a token is written at most once per `everyMs`,
 * and the tokens first seen within `batchMs` of each other share one write.
 */
export class UsageRecorder {
  private readonly written = new Map<string, number>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly everyMs = 60_000,
    private readonly batchMs = 1000,
  ) {}

  used(id: string): void {
    const t = Date.now();
    if (t - (this.written.get(id) ?? -Infinity) < this.everyMs) return;
    if (this.written.size > 100_000) this.written.clear();
    this.written.set(id, t);
    this.pending.add(id);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.batchMs).unref();
  }

  /** Write what is pending (also on close, so a last use is not lost). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const ids = [...this.pending];
    this.pending = new Set();
    this.flushing = this.flushing
      .then(() => this.store.touchTokens(ids))
      .catch((err: unknown) => this.log.warn({ err: String(err), tokens: ids.length }, 'could not record token use'));
    return this.flushing;
  }
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
