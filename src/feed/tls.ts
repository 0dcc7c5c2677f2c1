// How agents and DNS servers reach the coordinator: HTTPS verified against a
// CA the operator gives (--ca FILE), or the system's; plain HTTP only to a
// loopback coordinator unless the operator says --insecure (the bearer token
// would cross the network in clear). Certificate checks are never switched
// off: an unverified TLS connection is no safer than plain HTTP, only
// better at looking safe.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Agent } from 'undici';
import { ConfigError } from '../errors.js';

/** A coordinator URL or --ca that cannot be used; the CLI exits 2 on it. */
export class TlsConfigError extends ConfigError {
  override name = 'TlsConfigError';
}

export interface CoordinatorTls {
  /** PEM of the CA(s) that sign the coordinator's certificate; replaces the system CAs */
  ca?: string;
  /** allow plain http:// to a coordinator that is not on loopback */
  insecure?: boolean;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Throws a TlsConfigError (the CLI exits 2) when `url` may not be used under `tls`. */
export function checkCoordinatorUrl(url: string, tls: CoordinatorTls = {}): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TlsConfigError(`coordinator URL ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TlsConfigError(`coordinator URL ${JSON.stringify(url)} must be http(s)://`);
  if (u.protocol === 'http:' && !tls.insecure && !isLoopbackHost(u.hostname)) {
    throw new TlsConfigError(`refusing plain HTTP to ${u.host}, which is not loopback: use https:// (with --ca FILE for a private CA), or --insecure to send the token in clear`);
  }
  if (u.protocol === 'http:' && tls.ca) throw new TlsConfigError('--ca only applies to an https:// coordinator');
  return u;
}

/** An undici dispatcher that trusts `ca` (undefined when the defaults do). */
export function coordinatorDispatcher(tls: CoordinatorTls = {}): Agent | undefined {
  return tls.ca ? new Agent({ connect: { ca: tls.ca } }) : undefined;
}

/** Read --ca FILE into CoordinatorTls, naming the flag when the file is unusable. */
export function loadCoordinatorTls(o: { caFile?: string | null; insecure?: boolean }): CoordinatorTls {
  if (!o.caFile) return { insecure: !!o.insecure };
  let ca: string;
  try {
    ca = readFileSync(o.caFile, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`--ca ${o.caFile}: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim());
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new TlsConfigError(`--ca ${o.caFile}: no PEM certificate in the file`);
  return { ca, insecure: !!o.insecure };
}

/**
 * For the other fetch() calls to the coordinator (the agent's API client…):
 * checks the URL and returns extra fetch options to spread into each call,
 * `fetch(url, { ...init, method, headers })`.
 */
export function coordinatorFetchInit(url: string, o: { caFile?: string | null; insecure?: boolean } = {}): { dispatcher?: Agent } {
  const tls = loadCoordinatorTls(o);
  checkCoordinatorUrl(url, tls);
  const dispatcher = coordinatorDispatcher(tls);
  return dispatcher ? { dispatcher } : {};
}

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'HOSTNAME_MISMATCH',
]);

/** The root cause of a fetch() failure ("fetch failed" hides it in `cause`). */
function rootCause(err: unknown): { code?: string; message: string } {
  let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  for (let i = 0; i < 5 && e && e.cause && !e.code; i++) e = e.cause as typeof e;
  return { code: e?.code, message: e?.message ?? String(err) };
}

export class CoordinatorCertError extends Error {
  override name = 'CoordinatorCertError';
  constructor(readonly url: string, readonly code: string, detail: string) {
    super(`the coordinator at ${url} presented a certificate that does not verify (${code}: ${detail}); `
      + 'give the CA that signed it with --ca FILE, or fix the certificate (it must name the host in the URL)');
  }
}

/** A clearer error for a failed request to the coordinator: certificate problems say so. */
export function explainFetchError(err: unknown, url: string): Error {
  const c = rootCause(err);
  if (c.code && CERT_CODES.has(c.code)) {
    let origin = url;
    try { origin = new URL(url).origin; } catch { /* keep it */ }
    return new CoordinatorCertError(origin, c.code, c.message);
  }
  if (c.code === 'EPROTO' || /wrong version number|packet length too long/i.test(c.message)) {
    // OpenSSL's "…:SSL routines:ssl3_get_record:wrong version number:file:line:" → its reason.
    const reason = /SSL routines:[^:]*:([^:]+):/.exec(c.message)?.[1] ?? c.message.trim();
    return new Error(`TLS handshake with ${url} failed (${reason}): is the coordinator serving HTTPS on that port?`);
  }
  return err instanceof Error && c.message && c.message !== err.message ? new Error(`${err.message}: ${c.code ? `${c.code} ` : ''}${c.message}`) : (err as Error);
}
