import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { createLogger } from '../../log.js';
import { startCoordinator } from '../../coordinator/run.js';
import { hostPort, parse, str } from '../args.js';
import { UsageError } from '../errors.js';
import { onShutdown } from '../shutdown.js';

const USAGE = 'sixpn coordinator --data DIR | --db URL [--listen HOST:PORT] [--tls-cert F --tls-key F] [--log-level L]'
  + ' (the database URL may come from SIXPN_DB_URL instead, keeping its password off the command line)';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface CoordinatorConfig {
  data?: string;
  db?: string;
  listen: { host: string; port: number };
  tls?: { certFile: string; keyFile: string };
  logLevel: string;
}

/** Flags (and env) → config; every mistake is a UsageError naming the flag (exit 2). */
export function parseCoordinatorArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const p = parse(argv, {
    data: { type: 'string' }, db: { type: 'string' }, listen: { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'log-level': { type: 'string' },
  }, USAGE, { min: 0, max: 0 });
  const data = str(p, 'data');
  const db = str(p, 'db') ?? (env.SIXPN_DB_URL || undefined);
  if (!data && !db) throw new UsageError(`one of --data or --db is required\nusage: ${USAGE}`);
  if (db && !/^postgres(ql)?:\/\//.test(db)) throw new UsageError(`--db must be a postgres:// URL, got ${JSON.stringify(db.replace(/:[^:@/]*@/, ':***@'))}`);
  const cert = str(p, 'tls-cert');
  const key = str(p, 'tls-key');
  if (!!cert !== !!key) throw new UsageError('--tls-cert and --tls-key go together');
  const listen = hostPort(str(p, 'listen') ?? '127.0.0.1:4280', 'listen');
  const logLevel = str(p, 'log-level') ?? env.SIXPN_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  return { data, db, listen, tls: cert && key ? { certFile: cert, keyFile: key } : undefined, logLevel };
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

export async function coordinatorCommand(argv: string[]): Promise<number> {
  const cfg = parseCoordinatorArgs(argv);
  if (cfg.tls) checkTlsFiles(cfg.tls);
  const logger = createLogger('coordinator', cfg.logLevel);
  const c = await startCoordinator({
    dataDir: cfg.data, dbUrl: cfg.db, host: cfg.listen.host, port: cfg.listen.port, logger, tls: cfg.tls,
  });
  logger.info({ url: c.url, rev: c.hub.revision, store: c.store.backend.kind }, 'coordinator listening');
  await onShutdown(logger, () => c.close());
  logger.info('coordinator stopped');
  return 0;
}
