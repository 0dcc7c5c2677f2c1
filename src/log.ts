import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs to stderr (stdout stays for command output). pino
 * writes level, time, pid, hostname and name on every line: log objects use
 * other keys (a child process's pid is `childPid`).
 */
export function createLogger(name: string, level = process.env.SIXPN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
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
