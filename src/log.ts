import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'pretty' | 'json';

/** SIXPN_LOG_FORMAT (main sets it from --log-format), else pretty when stderr is a terminal. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): LogFormat {
  const f = env.SIXPN_LOG_FORMAT;
  return f === 'pretty' || f === 'json' ? f : tty ? 'pretty' : 'json';
}

function destination(): DestinationStream {
  if (logFormat() === 'json') return pino.destination({ fd: 2, sync: true });
  // Loaded only for people at a terminal; synchronous, like the JSON lines.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
  return pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/**
 * Structured logs to stderr (stdout stays for command output): JSON lines, or
 * pino-pretty's for a person at a terminal (see logFormat). pino
 * writes level, time, pid, hostname and name on every line: log objects use
 * other keys (a child process's pid is `childPid`).
 */
export function createLogger(name: string, level = process.env.SIXPN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, destination());
}

export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * A child logger for one part of a program. pino appends bindings, so binding
 * `component` under a logger that already has one writes the key twice on a
 * line: the first level names the `component`, a nested one the `part`.
 */
export function partLogger(parent: Logger, name: string): Logger {
  return parent.child('component' in parent.bindings() ? { part: name } : { component: name });
}
