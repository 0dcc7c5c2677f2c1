// `startDnsServer`: the authoritative `.internal` server over a Replica.
// Composes the index (kept in step with the replica), the engine (lookup,
// packets, cache, forwarding), the UDP+TCP listeners and, with `workers` > 1,
// the worker processes that answer UDP on the same sockets.
import type { Replica } from '../feed/replica.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { silentLogger, type Logger } from '../log.js';
import { DnsEngine } from './engine.js';
import { Forwarder, type Upstream } from './forward.js';
import { DnsIndexer } from './indexer.js';
import { QuerierResolver } from './querier.js';
import type { DnsStats } from './stats.js';
import { listenBoth, type ListenAddress, type Listener } from './transport.js';
import type { WorkerConfig } from './worker-protocol.js';
import type { CacheCounts } from './cache.js';
import { startWorkerPool, type WorkerPool } from './workers.js';

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
  /** processes answering UDP (this one included; default 1); TCP stays in this one */
  workers?: number;
}

export interface DnsServer {
  /** the bound addresses, in the order of `listen` (UDP and TCP share each) */
  addresses: ListenAddress[];
  engine: DnsEngine;
  indexer: DnsIndexer;
  /** the worker processes (null with one worker) */
  workers: WorkerPool | null;
  /** answer-cache counters of this process and its workers */
  cacheCounts(): CacheCounts;
  close(): Promise<void>;
}

/** The engine options a worker process rebuilds its engine from. */
export function workerConfig(opts: DnsServerOptions, logLevel: string): WorkerConfig {
  return {
    ttl: opts.ttl ?? DEFAULT_TTL,
    maxUdpSize: opts.maxUdpSize ?? DEFAULT_MAX_UDP,
    upstreams: opts.upstreams ?? [],
    forwardTimeoutMs: opts.forwardTimeoutMs ?? 2000,
    loopbackNetworkId: opts.loopbackNetworkId,
    loopbackOrg: opts.loopbackOrg,
    loopbackRegion: opts.loopbackRegion,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    answerCache: opts.answerCache !== false,
    stats: opts.stats !== undefined,
    logLevel,
  };
}

/** Index and engine over a replica: the same in the primary and in every worker. */
export function createEngine(replica: Replica, c: WorkerConfig, log: Logger, stats?: DnsStats): { indexer: DnsIndexer; engine: DnsEngine } {
  const indexer = new DnsIndexer(replica, c.prefix, log);
  const engine = new DnsEngine({
    indexer,
    querier: new QuerierResolver({ networkId: c.loopbackNetworkId, org: c.loopbackOrg, region: c.loopbackRegion }),
    forwarder: c.upstreams.length > 0 ? new Forwarder(c.upstreams, c.forwardTimeoutMs) : null,
    ttl: c.ttl,
    maxUdpSize: c.maxUdpSize,
    logger: log,
    cache: c.answerCache,
    stats,
  });
  return { indexer, engine };
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.logger ?? silentLogger;
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const config = workerConfig(opts, log.level);
  const { indexer, engine } = createEngine(opts.replica, config, log, opts.stats);
  const handler = engine.handle.bind(engine);
  const listeners: Listener[] = [];
  let pool: WorkerPool | null = null;
  try {
    for (const addr of opts.listen) listeners.push(await listenBoth(addr, handler, log));
    if (workers > 1)
      pool = await startWorkerPool({ count: workers - 1, replica: opts.replica, sockets: listeners.map((l) => l.udp), config, log, stats: opts.stats });
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    indexer.close();
    throw err;
  }
  const addresses = listeners.map((l) => ({ host: l.host, port: l.port }));
  log.info({ listen: addresses.map(fmt), upstreams: (opts.upstreams ?? []).map(fmt), workers }, 'dns server listening');
  let closed: Promise<void> | null = null;
  return {
    addresses,
    engine,
    indexer,
    workers: pool,
    cacheCounts: () => {
      const c = engine.cache,
        w = pool?.cache;
      return {
        hits: c.hits + (w?.hits ?? 0),
        misses: c.misses + (w?.misses ?? 0),
        evictions: c.evictions + (w?.evictions ?? 0),
        size: c.size + (w?.size ?? 0),
      };
    },
    close: () =>
      (closed ??= (async () => {
        await pool?.close();
        await Promise.all(listeners.map((l) => l.close()));
        indexer.close();
      })()),
  };
}

/** HOST:PORT, IPv6 in brackets. */
export function fmt(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
