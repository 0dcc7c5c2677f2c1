// Host endpoints may be DNS names (the API accepts HOST:PORT). `wg set`
// resolves a name itself, and one that does not resolve fails the whole call,
// so the agent resolves names first, with a timeout and a cache, and hands
// `wg` IP literals only. A name that does not resolve leaves its peer without
// a (new) endpoint and is reported; every other peer is applied as usual.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DesiredPeer } from '../wg/diff.js';
import { normalizeEndpoint } from '../wg/diff.js';

export interface ResolverPort {
  /** An IP literal for `host`; rejects with a clear error when it does not resolve in time. */
  resolve(host: string): Promise<string>;
}

export interface ResolverOptions {
  /** name → address; the default is the system resolver (getaddrinfo) */
  lookup?: (host: string) => Promise<string>;
  timeoutMs?: number;
  /** how long an answer is used */
  ttlMs?: number;
  /** how long a failure is remembered (no lookup per pass for a name that does not resolve) */
  negativeTtlMs?: number;
  now?: () => number;
}

interface Entry {
  ip: string | null;
  error: string | null;
  expires: number;
}

export class EndpointResolver implements ResolverPort {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(private readonly o: ResolverOptions = {}) {
    this.now = o.now ?? Date.now;
  }

  resolve(host: string): Promise<string> {
    if (isIP(host)) return Promise.resolve(host);
    const key = host.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.ip !== null ? Promise.resolve(hit.ip) : Promise.reject(new Error(hit.error!));
    let p = this.inflight.get(key);
    if (!p) {
      p = this.lookupOnce(key, hit).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async lookupOnce(host: string, stale: Entry | undefined): Promise<string> {
    const ms = this.o.timeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${host} did not resolve within ${ms} ms`)), ms);
    });
    try {
      const ip = await Promise.race([(this.o.lookup ?? systemLookup)(host), timeout]);
      this.cache.set(host, { ip, error: null, expires: this.now() + (this.o.ttlMs ?? 60_000) });
      return ip;
    } catch (err) {
      // The name resolved before: keep its last address rather than none.
      if (stale?.ip) {
        this.cache.set(host, { ...stale, expires: this.now() + (this.o.negativeTtlMs ?? 10_000) });
        return stale.ip;
      }
      const e = err as NodeJS.ErrnoException;
      const error = e.code ? `${host} does not resolve (${e.code})` : e.message;
      this.cache.set(host, { ip: null, error, expires: this.now() + (this.o.negativeTtlMs ?? 10_000) });
      throw new Error(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function systemLookup(host: string): Promise<string> {
  return (await lookup(host)).address;
}

/** A peer the pass could not apply as wanted, and why. */
export interface PeerFailure {
  publicKey: string;
  error: string;
}

/**
 * The peers with every DNS-name endpoint replaced by an IP literal. A peer
 * whose name does not resolve gets no endpoint (null: the device keeps what
 * it has, and the peer can still reach us) and a failure.
 */
export async function resolvePeers(
  peers: readonly DesiredPeer[],
  resolver: ResolverPort,
  waitMs = 250,
): Promise<{ peers: DesiredPeer[]; failures: PeerFailure[] }> {
  // A slow name holds the pass up this long at most; its lookup goes on and
  // is cached, and the retry of this (failed) pass picks the answer up.
  const within = (host: string): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${host} is still resolving`)), waitMs);
    });
    return Promise.race([resolver.resolve(host), slow]).finally(() => clearTimeout(timer));
  };
  const failures: PeerFailure[] = [];
  const out = await Promise.all(
    peers.map(async (p): Promise<DesiredPeer> => {
      if (p.endpoint === null) return p;
      const ep = normalizeEndpoint(p.endpoint);
      if (ep.literal) return p;
      const m = /^(.*):(\d+)$/.exec(ep.text);
      if (!m) {
        failures.push({ publicKey: p.publicKey, error: `endpoint ${JSON.stringify(p.endpoint)} is not HOST:PORT` });
        return { ...p, endpoint: null };
      }
      try {
        const ip = await within(m[1]!);
        return { ...p, endpoint: isIP(ip) === 6 ? `[${ip}]:${m[2]}` : `${ip}:${m[2]}` };
      } catch (err) {
        failures.push({ publicKey: p.publicKey, error: `endpoint ${p.endpoint}: ${(err as Error).message}` });
        return { ...p, endpoint: null };
      }
    }),
  );
  return { peers: out, failures };
}
