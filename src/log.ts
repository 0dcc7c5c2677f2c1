import { pino, type Logger } from 'pino';

export type { Logger };

/** The levels `--log-level` and SIXPN_LOG_LEVEL take (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** Structured JSON logs to stderr (stdout stays for command output). */
export function createLogger(name: string, level = process.env.SIXPN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
