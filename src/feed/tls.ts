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
    throw new TlsConfigError(
      `refusing plain HTTP to ${u.host}, which is not loopback: use https:// (with --ca FILE for a private CA), or --insecure to send the token in clear`,
    );
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

// Kept apart (no undici) so the CLI's API client can load them cheaply.
export { CoordinatorCertError, explainFetchError } from './fetch-error.js';
