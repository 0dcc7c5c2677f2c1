// node:util parseArgs with the common flags and usage errors as UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isDnsLabel } from '../validate.js';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  json: { type: 'boolean' },
  api: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options, usage: string, positionals: { min: number; max: number }): Parsed {
  let r: Parsed;
  try {
    r = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}\nusage: ${usage}`);
  }
  if (r.values.help) { process.stdout.write(`usage: ${usage}\n`); process.exit(0); }
  if (r.positionals.length < positionals.min) throw new UsageError(`missing argument\nusage: ${usage}`);
  if (r.positionals.length > positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(r.positionals[positionals.max])}\nusage: ${usage}`);
  return r;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(p: Parsed, name: string, usage: string): string {
  const v = str(p, name);
  if (v === undefined) throw new UsageError(`--${name} is required\nusage: ${usage}`);
  return v;
}

export function label(value: string, what: string): string {
  if (!isDnsLabel(value)) throw new UsageError(`${what} ${JSON.stringify(value)} is not a DNS label (a-z, 0-9, '-', 1-63 chars, no leading or trailing '-')`);
  return value;
}

/** HOST:PORT → {host, port}; used by --listen, --api, --dns. */
export function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The subcommand verb, checked before any flag parsing so a typo gets the right message. */
export function verbOf(argv: string[], noun: string, verbs: string[], usage: string): string {
  const verb = argv[0] ?? '';
  if (!verbs.includes(verb)) throw new UsageError(`unknown ${noun} command ${JSON.stringify(verb)}\nusage: ${usage}`);
  return verb;
}
