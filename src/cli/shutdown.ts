import type { Logger } from '../log.js';

/** Resolve after SIGINT/SIGTERM, once `close` has run (a second signal exits at once). */
export function onShutdown(logger: Logger, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (closing) process.exit(130);
      closing = true;
      logger.info({ signal }, 'shutting down');
      close()
        .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
        .finally(resolve);
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}
