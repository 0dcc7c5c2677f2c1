// `startDnsServer`: the authoritative `.internal` server over a Replica.
// Composes the index (kept in step with the replica), the engine (lookup,
// packets, cache, forwarding) and the UDP+TCP listeners.
import type { Replica } from '../feed/replica.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { silentLogger, type Logger } from '../log.js';
import { DnsEngine } from './engine.js';
import { Forwarder, type Upstream } from './forward.js';
import { DnsIndexer } from './indexer.js';
import { QuerierResolver } from './querier.js';
import type { DnsStats } from './stats.js';
import { listenBoth, type ListenAddress, type Listener } from './transport.js';

export const DEFAULT_TTL = 5;
export const DEFAULT_MAX_UDP = 1232;

export interface DnsServerOptions {
  replica: Replica;
  /** UDP and TCP on each; port 0 picks a free port (the same for UDP and TCP) */
  listen: ListenAddress[];
  /** resolvers for names outside `.internal` and its reverse zone; none: REFUSED */
  upstreams?: Upstream[];
  /** record TTL in seconds (default 5) */
  ttl?: number;
  /** answer loopback sources as this network (`sixpn up`: the `personal` org's network) */
  loopbackNetworkId?: number;
  /** …or as this org's default network, looked up in the replica on each change */
  loopbackOrg?: string;
  /** region of loopback queriers (for nearest); default: the only host's region, if one */
  loopbackRegion?: string;
  logger?: Logger;
  /** ULA prefix, default 0xfdaa */
  prefix?: number;
  /** total time to wait for upstreams before SERVFAIL (default 2000 ms) */
  forwardTimeoutMs?: number;
  /** largest UDP answer even when EDNS allows more (default 1232) */
  maxUdpSize?: number;
  /** answer cache on (default); off only to measure the slow path */
  answerCache?: boolean;
  /** count and time queries (for --metrics) */
  stats?: DnsStats;
}

export interface DnsServer {
  /** the bound addresses, in the order of `listen` (UDP and TCP share each) */
  addresses: ListenAddress[];
  engine: DnsEngine;
  indexer: DnsIndexer;
  close(): Promise<void>;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.logger ?? silentLogger;
  const indexer = new DnsIndexer(opts.replica, opts.prefix ?? DEFAULT_PREFIX, log);
  const engine = new DnsEngine({
    indexer,
    querier: new QuerierResolver({ networkId: opts.loopbackNetworkId, org: opts.loopbackOrg, region: opts.loopbackRegion }),
    forwarder: opts.upstreams && opts.upstreams.length > 0 ? new Forwarder(opts.upstreams, opts.forwardTimeoutMs ?? 2000) : null,
    ttl: opts.ttl ?? DEFAULT_TTL,
    maxUdpSize: opts.maxUdpSize ?? DEFAULT_MAX_UDP,
    logger: log,
    cache: opts.answerCache,
    stats: opts.stats,
  });
  const handler = engine.handle.bind(engine);
  const listeners: Listener[] = [];
  try {
    for (const addr of opts.listen) listeners.push(await listenBoth(addr, handler, log));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    indexer.close();
    throw err;
  }
  const addresses = listeners.map((l) => ({ host: l.host, port: l.port }));
  log.info({ listen: addresses.map(fmt), upstreams: (opts.upstreams ?? []).map(fmt) }, 'dns server listening');
  let closed: Promise<void> | null = null;
  return {
    addresses,
    engine,
    indexer,
    close: () => (closed ??= Promise.all(listeners.map((l) => l.close())).then(() => indexer.close())),
  };
}

/** HOST:PORT, IPv6 in brackets. */
export function fmt(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
