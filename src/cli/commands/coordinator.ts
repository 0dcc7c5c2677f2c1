import { createLogger } from '../../log.js';
import { startCoordinator } from '../../coordinator/run.js';
import { hostPort, parse, str } from '../args.js';
import { UsageError } from '../errors.js';
import { onShutdown } from '../shutdown.js';

const USAGE = 'sixpn coordinator --data DIR | --db URL [--listen HOST:PORT] [--tls-cert F --tls-key F] [--log-level L]';

export async function coordinatorCommand(argv: string[]): Promise<number> {
  const p = parse(argv, {
    data: { type: 'string' }, db: { type: 'string' }, listen: { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'log-level': { type: 'string' },
  }, USAGE, { min: 0, max: 0 });
  const data = str(p, 'data');
  const db = str(p, 'db');
  if (!data && !db) throw new UsageError(`one of --data or --db is required\nusage: ${USAGE}`);
  if (db && !/^postgres(ql)?:\/\//.test(db)) throw new UsageError(`--db must be a postgres:// URL, got ${JSON.stringify(db)}`);
  const cert = str(p, 'tls-cert');
  const key = str(p, 'tls-key');
  if (!!cert !== !!key) throw new UsageError('--tls-cert and --tls-key go together');
  const listen = hostPort(str(p, 'listen') ?? '127.0.0.1:4280', 'listen');
  const logger = createLogger('coordinator', str(p, 'log-level'));
  const c = await startCoordinator({
    dataDir: data, dbUrl: db, host: listen.host, port: listen.port, logger,
    tls: cert && key ? { certFile: cert, keyFile: key } : undefined,
  });
  logger.info({ url: c.url, rev: c.hub.revision }, 'coordinator listening');
  await onShutdown(logger, () => c.close());
  return 0;
}
