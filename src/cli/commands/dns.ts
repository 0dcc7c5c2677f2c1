// `sixpn dns`: a Replica fed by the coordinator's /v1/watch, served by
// startDnsServer. --metrics serves Prometheus series on their own listener
// (keep it on loopback or a management address). Default listen: 127.0.0.1:53
// and [::1]:53 (loopback only; a host's agent redirects port 53 of fdaa:*::3
// to it, so nothing else needs to be exposed).
import { FeedClient } from '../../feed/client.js';
import { userAgent } from '../../version.js';
import { Replica } from '../../feed/replica.js';
import { checkCoordinatorUrl, loadCoordinatorTls } from '../../feed/tls.js';
import { createLogger } from '../../log.js';
import { createRegistry, feedMetrics, serveMetrics, type MetricsServer } from '../../metrics/index.js';
import { dnsMetrics } from '../../dns/metrics.js';
import { DEFAULT_TTL, fmt, startDnsServer } from '../../dns/server.js';
import { DnsStats } from '../../dns/stats.js';
import type { ListenAddress } from '../../dns/transport.js';
import { list, str, bool } from '../ctx.js';
import { UsageError } from '../errors.js';
import { duration, hostPort, httpUrl, intIn, ipPort, logLevel } from '../flags.js';
import { parseFlags } from '../program.js';
import type { Context, Flags } from '../spec.js';
import { SERVICE_ROOT } from '../service-specs.js';

export const DEFAULT_LISTEN: readonly ListenAddress[] = [
  { host: '127.0.0.1', port: 53 },
  { host: '::1', port: 53 },
];

export interface DnsCommandConfig {
  coordinator: string;
  token: string;
  listen: ListenAddress[];
  upstreams: ListenAddress[];
  ttl: number;
  logLevel: string;
  /** PEM file of the CA that signs the coordinator's certificate (replaces the system CAs) */
  caFile: string | null;
  /** allow plain http:// to a coordinator that is not on loopback */
  insecure: boolean;
  /** where to serve GET /metrics; null: nowhere */
  metrics: ListenAddress | null;
  /** processes answering UDP on the listen sockets (1: this one only) */
  workers: number;
}

export function dnsConfig(f: Flags, env: NodeJS.ProcessEnv = process.env): DnsCommandConfig {
  const coordinator = str(f, 'coordinator') ?? (env.SIXPN_API_URL || undefined);
  const token = str(f, 'token') ?? (env.SIXPN_TOKEN || undefined);
  if (!coordinator) throw new UsageError('--coordinator URL is required', { showUsage: true });
  httpUrl(coordinator, 'coordinator');
  if (!token) throw new UsageError('--token T is required', { showUsage: true });
  const listen = list(f, 'listen').map((s) => hostPort(s, 'listen'));
  // Upstreams are IPs, never names: resolving one could loop back here.
  const upstreams = list(f, 'upstream').map((s) => ipPort(s, 'upstream', 53));
  const ttlArg = str(f, 'ttl');
  const ttl = ttlArg === undefined ? DEFAULT_TTL : duration(ttlArg, 'ttl', { hi: 86400, bare: true });
  const level = logLevel(str(f, 'log-level') ?? env.SIXPN_LOG_LEVEL ?? 'info');
  const ca = str(f, 'ca');
  if (ca === '') throw new UsageError('--ca needs a FILE');
  const metricsArg = str(f, 'metrics');
  const workersArg = str(f, 'workers');
  return {
    coordinator,
    token,
    listen: listen.length ? listen : DEFAULT_LISTEN.map((a) => ({ ...a })),
    upstreams,
    ttl,
    logLevel: level,
    caFile: ca ?? null,
    insecure: bool(f, 'insecure'),
    metrics: metricsArg === undefined ? null : ipPort(metricsArg, 'metrics'),
    workers: workersArg === undefined ? 1 : intIn(workersArg, 'workers', 1, 64),
  };
}

/** `sixpn dns` argv (and env) → config; pure, so its usage errors are table-tested. */
export function parseDnsArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DnsCommandConfig {
  return dnsConfig(parseFlags(SERVICE_ROOT, ['dns'], argv), env);
}

/** Run `sixpn dns` until SIGINT/SIGTERM. Exit codes: 0 clean stop, 1 runtime error, 2 usage. */
export async function dnsCommand(ctx: Context): Promise<number> {
  const cfg = dnsConfig(ctx.flags);
  // The CA file and the plain-HTTP rule are checked before anything listens (a TlsConfigError: exit 2).
  const tls = loadCoordinatorTls({ caFile: cfg.caFile, insecure: cfg.insecure });
  checkCoordinatorUrl(cfg.coordinator, tls);
  const log = createLogger('sixpn-dns', cfg.logLevel);
  const replica = new Replica();
  const stats = cfg.metrics ? new DnsStats() : undefined;
  let server;
  try {
    server = await startDnsServer({ replica, listen: cfg.listen, upstreams: cfg.upstreams, ttl: cfg.ttl, logger: log, stats, workers: cfg.workers });
  } catch (err) {
    log.error({ err: String(err) }, 'dns: cannot listen');
    process.stderr.write(`sixpn dns: cannot listen: ${(err as Error).message}\n`);
    return 1;
  }
  const feed = new FeedClient({ url: cfg.coordinator, token: cfg.token, replica, logger: log, tls, userAgent: userAgent('dns') });
  let metrics: MetricsServer | null = null;
  if (cfg.metrics && stats) {
    const registry = createRegistry({ defaultMetrics: true });
    const s = server;
    dnsMetrics(registry, stats, () => s.cacheCounts());
    feedMetrics(registry, feed, replica, 'sixpn_dns_feed');
    try {
      metrics = await serveMetrics(registry, cfg.metrics);
    } catch (err) {
      await server.close();
      process.stderr.write(`sixpn dns: cannot serve --metrics on ${fmt(cfg.metrics)}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  feed.subscribe({ authError: (err) => log.error({ err: err.message }, 'dns: coordinator rejected the token') });
  feed.start();
  process.stdout.write(
    `sixpn dns: serving .internal on ${server.addresses.map(fmt).join(' ')} (SERVFAIL until the first snapshot)` +
      `${metrics ? `; metrics on ${metrics.url}` : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await feed.stop();
  await metrics?.close();
  await server.close();
  return 0;
}
