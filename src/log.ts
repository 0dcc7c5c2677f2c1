import { pino, type Logger } from 'pino';

export type { Logger };

export { isLogLevel, LOG_LEVELS, type LogLevel } from './log-levels.js';

/** Structured JSON logs to stderr (stdout stays for command output). */
export function createLogger(name: string, level = process.env.SIXPN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
