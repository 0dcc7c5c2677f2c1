// `sixpn dns --coordinator URL --token T [--listen HOST:PORT]… [--upstream IP[:PORT]]… [--ttl S]
//   [--ca FILE] [--insecure] [--metrics HOST:PORT] [--workers N] [--log-level L]`
// A Replica fed by the coordinator's /v1/watch, served by startDnsServer.
// --metrics serves Prometheus series on their own listener (keep it on
// loopback or a management address).
// Default listen: 127.0.0.1:53 and [::1]:53 (loopback only; a host's agent
// redirects port 53 of fdaa:*::3 to it, so nothing else needs to be exposed).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { FeedClient } from '../feed/client.js';
import { Replica } from '../feed/replica.js';
import { checkCoordinatorUrl, loadCoordinatorTls, type CoordinatorTls } from '../feed/tls.js';
import { createLogger } from '../log.js';
import { createRegistry, feedMetrics, serveMetrics, type MetricsServer } from '../metrics/index.js';
import { hostPort } from '../cli/args.js';
import { UsageError } from '../cli/errors.js';
import { dnsMetrics } from './metrics.js';
import { DEFAULT_TTL, fmt, startDnsServer } from './server.js';
import { DnsStats } from './stats.js';
import type { ListenAddress } from './transport.js';

export const DNS_USAGE = 'usage: sixpn dns --coordinator URL --token T [--listen HOST:PORT]... [--upstream IP[:PORT]]... [--ttl S] '
  + '[--ca FILE] [--insecure] [--metrics HOST:PORT] [--workers N] [--log-level L]';
export const DEFAULT_LISTEN: readonly ListenAddress[] = [{ host: '127.0.0.1', port: 53 }, { host: '::1', port: 53 }];

class HelpRequested extends Error {}

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

/**
 * IP[:PORT] with IPv6 bare or in brackets; `defaultPort` makes the port
 * optional. Null when malformed. Upstreams are IPs, never names: resolving
 * one could loop back here. (Also used by the agent's --dns-upstream.)
 */
export function parseHostPort(s: string, defaultPort?: number): ListenAddress | null {
  let host: string, port: string | undefined;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (br) { host = br[1]!; port = br[2]; }
  else if (net.isIPv6(s)) host = s;
  else { const i = s.lastIndexOf(':'); if (i < 0) host = s; else { host = s.slice(0, i); port = s.slice(i + 1); } }
  if (!net.isIP(host)) return null;
  if (port === undefined) return defaultPort === undefined ? null : { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
  return { host, port: Number(port) };
}

export function parseDnsArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DnsCommandConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        coordinator: { type: 'string' },
        token: { type: 'string' },
        listen: { type: 'string', multiple: true },
        upstream: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        metrics: { type: 'string' },
        workers: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  if (values.help) throw new HelpRequested();
  const coordinator = values.coordinator ?? env.SIXPN_API_URL;
  const token = values.token ?? env.SIXPN_TOKEN;
  if (!coordinator) throw new UsageError('--coordinator URL is required');
  if (!/^https?:\/\//.test(coordinator)) throw new UsageError(`--coordinator must be an http(s) URL, got ${JSON.stringify(coordinator)}`);
  if (!token) throw new UsageError('--token T is required');
  const listen = (values.listen ?? []).map((s) => hostPort(s, 'listen'));
  const upstreams = (values.upstream ?? []).map((s) => {
    const u = parseHostPort(s, 53);
    if (!u) throw new UsageError(`--upstream ${JSON.stringify(s)} is not IP[:PORT]`);
    return u;
  });
  let ttl = DEFAULT_TTL;
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl) || Number(values.ttl) > 86400) throw new UsageError(`--ttl must be 0..86400 seconds, got ${JSON.stringify(values.ttl)}`);
    ttl = Number(values.ttl);
  }
  const logLevel = values['log-level'] ?? env.SIXPN_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(logLevel)}`);
  if (values.ca === '') throw new UsageError('--ca needs a FILE');
  const metrics = values.metrics === undefined ? null : hostPort(values.metrics, 'metrics');
  let workers = 1;
  if (values.workers !== undefined) {
    if (!/^\d+$/.test(values.workers) || Number(values.workers) < 1 || Number(values.workers) > 64) throw new UsageError(`--workers must be 1..64, got ${JSON.stringify(values.workers)}`);
    workers = Number(values.workers);
  }
  return {
    coordinator, token, listen: listen.length ? listen : DEFAULT_LISTEN.map((a) => ({ ...a })), upstreams, ttl, logLevel,
    caFile: values.ca ?? null, insecure: values.insecure ?? false, metrics, workers,
  };
}

/** Run `sixpn dns` until SIGINT/SIGTERM. Exit codes: 0 clean stop, 1 runtime error, 2 usage. */
export async function dnsCommand(argv: string[]): Promise<number> {
  let cfg: DnsCommandConfig;
  try {
    cfg = parseDnsArgs(argv);
  } catch (err) {
    if (err instanceof HelpRequested) { process.stdout.write(`${DNS_USAGE}\n`); return 0; }
    if (err instanceof UsageError) {
      process.stderr.write(`sixpn dns: ${err.message} (${DNS_USAGE})\n`);
      return 2;
    }
    throw err;
  }
  // The CA file and the plain-HTTP rule are checked before anything listens: a bad one is a usage error.
  let tls: CoordinatorTls;
  try {
    tls = loadCoordinatorTls({ caFile: cfg.caFile, insecure: cfg.insecure });
    checkCoordinatorUrl(cfg.coordinator, tls);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sixpn dns: ${err.message}\n`);
    return 2;
  }
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
  const feed = new FeedClient({ url: cfg.coordinator, token: cfg.token, replica, logger: log, tls });
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
  feed.on('auth_error', (err: Error) => log.error({ err: err.message }, 'dns: coordinator rejected the token'));
  feed.start();
  process.stdout.write(`sixpn dns: serving .internal on ${server.addresses.map(fmt).join(' ')} (SERVFAIL until the first snapshot)`
    + `${metrics ? `; metrics on ${metrics.url}` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await feed.stop();
  await metrics?.close();
  await server.close();
  return 0;
}
