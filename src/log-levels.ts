// The levels `--log-level` and SIXPN_LOG_LEVEL take (pino's, plus `silent`),
// apart from src/log.ts so the CLI's command table need not load pino.
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}
