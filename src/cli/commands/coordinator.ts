import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { createLogger } from '../../log.js';
import { startCoordinator } from '../../coordinator/run.js';
import { bool, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { duration, hostPort, logLevel } from '../flags.js';
import { parseFlags } from '../program.js';
import { quotaFlags } from '../quota-flags.js';
import type { Quotas } from '../../store/quotas.js';
import { onShutdown } from '../shutdown.js';
import type { Context, Flags } from '../spec.js';
import { SERVICE_ROOT } from '../service-specs.js';

export interface CoordinatorConfig {
  data?: string;
  db?: string;
  listen: { host: string; port: number };
  tls?: { certFile: string; keyFile: string };
  logLevel: string;
  quotas: Partial<Quotas>;
  /** a host silent this long is unreachable: no new machines or peers */
  hostTimeoutMs?: number;
}

/** `--host-timeout DURATION` in ms (undefined: the store's default, 60 s). */
export function hostTimeoutFlag(f: Flags): number | undefined {
  const v = str(f, 'host-timeout');
  return v === undefined ? undefined : duration(v, 'host-timeout', { lo: 20, hi: 86400, bare: true }) * 1000;
}

/** Flags (and env) → config; every mistake is a UsageError naming the flag (exit 2). */
export function coordinatorConfig(f: Flags, env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const data = str(f, 'data');
  const db = str(f, 'db') ?? (env.SIXPN_DB_URL || undefined);
  if (!data && !db) throw new UsageError('one of --data or --db is required', { showUsage: true });
  if (db && !/^postgres(ql)?:\/\//.test(db)) throw new UsageError(`--db must be a postgres:// URL, got ${JSON.stringify(db.replace(/:[^:@/]*@/, ':***@'))}`);
  const cert = str(f, 'tls-cert');
  const key = str(f, 'tls-key');
  if (!!cert !== !!key) throw new UsageError('--tls-cert and --tls-key go together');
  const listen = hostPort(str(f, 'listen') ?? '127.0.0.1:4280', 'listen');
  const level = logLevel(str(f, 'log-level') ?? env.SIXPN_LOG_LEVEL ?? 'info');
  return {
    data,
    db,
    listen,
    tls: cert && key ? { certFile: cert, keyFile: key } : undefined,
    logLevel: level,
    quotas: quotaFlags(f),
    hostTimeoutMs: hostTimeoutFlag(f),
  };
}

/** `sixpn coordinator` argv (and env) → config. */
export function parseCoordinatorArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  return coordinatorConfig(parseFlags(SERVICE_ROOT, ['coordinator'], argv), env);
}

/** Read and pair-check the certificate and key now, so a bad file is a usage error naming the flag. */
function checkTlsFiles(tls: { certFile: string; keyFile: string }): void {
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`--${flag} ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read('tls-cert', tls.certFile);
  const key = read('tls-key', tls.keyFile);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--tls-cert ${tls.certFile}: no PEM certificate in the file`);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new UsageError(`--tls-cert ${tls.certFile} / --tls-key ${tls.keyFile}: ${(err as Error).message}`);
  }
}

export async function coordinatorCommand(ctx: Context): Promise<number> {
  if (ctx.args[0] === 'backup') return (await import('./coordinator-backup.js')).coordinatorBackupCommand(ctx);
  if (ctx.args.length > 0) throw new UsageError(`unknown coordinator action ${JSON.stringify(ctx.args[0])} (the one action is backup)`, { showUsage: true });
  if (bool(ctx.flags, 'force')) throw new UsageError('--force goes with backup');
  const cfg = coordinatorConfig(ctx.flags);
  if (cfg.tls) checkTlsFiles(cfg.tls);
  const logger = createLogger('coordinator', cfg.logLevel);
  const c = await startCoordinator({
    dataDir: cfg.data,
    dbUrl: cfg.db,
    host: cfg.listen.host,
    port: cfg.listen.port,
    logger,
    tls: cfg.tls,
    quotas: cfg.quotas,
    hostTimeoutMs: cfg.hostTimeoutMs,
  });
  logger.info({ url: c.url, rev: c.hub.revision, store: c.store.backend.kind, quotas: c.store.quotas }, 'coordinator listening');
  await onShutdown(logger, () => c.close());
  logger.info('coordinator stopped');
  return 0;
}
