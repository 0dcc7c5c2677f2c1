// Reading a parsed command line in a handler.
import { CoordinatorApi } from '../client/api.js';
import { resolveConfig, type CliConfig } from './config.js';
import { UsageError } from './errors.js';
import type { Context, Flags } from './spec.js';

export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(flags: Flags, name: string): boolean {
  return flags[name] === true;
}

export function list(flags: Flags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** A flag the command cannot do without (exit 2 with the usage). */
export function need(flags: Flags, name: string): string {
  const v = str(flags, name);
  if (v === undefined) throw new UsageError(`--${name} is required`, { showUsage: true });
  return v;
}

/** Where to connect: --api/--token/--token-file/--ca, their variables, or the config's current context. */
export function connection(ctx: Context): CliConfig {
  return resolveConfig({ api: str(ctx.flags, 'api'), token: str(ctx.flags, 'token'), tokenFile: str(ctx.flags, 'token-file'), ca: str(ctx.flags, 'ca') });
}

/** The API client from --api/--token, SIXPN_API_URL/SIXPN_TOKEN or the config file. */
export function client(ctx: Context, timeoutMs = 30_000): CoordinatorApi {
  const c = connection(ctx);
  if (c.token) warnPlainHttp(c.api);
  if (!c.ca) return new CoordinatorApi(c.api, c.token, timeoutMs);
  const ca = c.ca;
  // undici (for a private CA) loads only when one is given.
  return new CoordinatorApi(c.api, c.token, timeoutMs, async () => (await import('../feed/tls.js')).coordinatorFetchInit(c.api, { caFile: ca }));
}

let warned = false;

/** A token sent in clear to another machine can be read (and replayed) on the way: say so, once. */
export function warnPlainHttp(api: string): void {
  let u: URL;
  try {
    u = new URL(api);
  } catch {
    return;
  }
  if (u.protocol !== 'http:' || warned) return;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return;
  warned = true;
  process.stderr.write(`sixpn: warning: sending a token over plain HTTP to ${u.host}: anyone on the path can read it; use an https:// API URL\n`);
}

export const json = (ctx: Context): boolean => bool(ctx.flags, 'json');
