// Where the CLI finds the API URL, token and CA: flags, then the environment
// (SIXPN_API_URL, SIXPN_TOKEN, SIXPN_TOKEN_FILE, SIXPN_CA), then the current
// context of the config file (SIXPN_CONFIG, else ~/.config/sixpn/cli.json).
// Nothing is read from the current directory: a checked-out repo or a shared
// directory cannot point the CLI at another coordinator.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.js';

/** One named coordinator: where it is and how to prove who we are. */
export interface CliContext {
  api: string;
  token?: string;
  token_file?: string;
  ca?: string;
}
export interface ConfigFile {
  current: string | null;
  contexts: Record<string, CliContext>;
}
/** What a command connects with. */
export interface CliConfig {
  api: string;
  token: string;
  ca?: string;
}

export function userConfigPath(home = homedir(), env: NodeJS.ProcessEnv = process.env): string {
  return env.SIXPN_CONFIG || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'sixpn', 'cli.json');
}

const isStr = (v: unknown): v is string => typeof v === 'string';

/** Parse a config file's text; the flat `{api, token}` of older versions reads as the context `default`. */
export function parseConfig(text: string, path: string): ConfigFile {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const bad = (why: string): UsageError => new UsageError(`config file ${path}: ${why}`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('must be a JSON object');
  const r = o as Record<string, unknown>;
  if (r.contexts === undefined) {
    if ((r.api !== undefined && !isStr(r.api)) || (r.token !== undefined && !isStr(r.token))) throw bad('"api" and "token" must be strings');
    return isStr(r.api)
      ? { current: 'default', contexts: { default: { api: r.api, ...(isStr(r.token) ? { token: r.token } : {}) } } }
      : { current: null, contexts: {} };
  }
  if (typeof r.contexts !== 'object' || r.contexts === null || Array.isArray(r.contexts)) throw bad('"contexts" must be an object');
  const contexts: Record<string, CliContext> = {};
  for (const [name, c] of Object.entries(r.contexts as Record<string, unknown>)) {
    const x = c as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || !isStr(x.api)) throw bad(`context ${JSON.stringify(name)} needs a string "api"`);
    for (const k of ['token', 'token_file', 'ca'] as const)
      if (x[k] !== undefined && !isStr(x[k])) throw bad(`context ${JSON.stringify(name)}: "${k}" must be a string`);
    contexts[name] = {
      api: x.api,
      ...(isStr(x.token) ? { token: x.token } : {}),
      ...(isStr(x.token_file) ? { token_file: x.token_file } : {}),
      ...(isStr(x.ca) ? { ca: x.ca } : {}),
    };
  }
  if (r.current !== undefined && r.current !== null && !isStr(r.current)) throw bad('"current" must be a string');
  return { current: isStr(r.current) ? r.current : null, contexts };
}

export function readConfigFile(path = userConfigPath()): ConfigFile {
  if (!existsSync(path)) return { current: null, contexts: {} };
  return parseConfig(readFileSync(path, 'utf8'), path);
}

/** Write the file readable by its owner only; `owner` chowns it (and its new directories) for `sudo sixpn up`. */
export function writeConfigFile(path: string, config: ConfigFile, owner?: { uid: number; gid: number }): void {
  const dir = dirname(path);
  const made = mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // it holds tokens, whoever made the file first
  if (owner) {
    // Only the directories this call created, from the deepest up to the first one made.
    if (made) for (let d = dir; d.length >= made.length; d = dirname(d)) chownSync(d, owner.uid, owner.gid);
    chownSync(path, owner.uid, owner.gid);
  }
}

/**
 * Add (or replace) one context in the file at `path`, keeping the others. It
 * becomes current when `use` says so or when there is no current context.
 * Answers whether it is now the current one.
 */
export function addContext(path: string, name: string, ctx: CliContext, o: { use?: boolean; owner?: { uid: number; gid: number } } = {}): boolean {
  const file = readConfigFile(path);
  file.contexts[name] = ctx;
  if (o.use || !file.current || !file.contexts[file.current]) file.current = name;
  writeConfigFile(path, file, o.owner);
  return file.current === name;
}

function readTokenFile(path: string, what: string): string {
  let t: string;
  try {
    t = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!t || /\s/.test(t)) throw new UsageError(`${what} ${path} must hold one token`);
  return t;
}

export interface ConfigFlags {
  api?: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
}

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, path = userConfigPath(homedir(), env)): CliConfig {
  let api = flags.api || env.SIXPN_API_URL || undefined;
  let token =
    flags.token ||
    (flags.tokenFile ? readTokenFile(flags.tokenFile, '--token-file') : undefined) ||
    env.SIXPN_TOKEN ||
    (env.SIXPN_TOKEN_FILE ? readTokenFile(env.SIXPN_TOKEN_FILE, 'SIXPN_TOKEN_FILE') : undefined);
  let ca = flags.ca || env.SIXPN_CA || undefined;
  if (!api || !token) {
    const file = readConfigFile(path);
    const c = file.current ? file.contexts[file.current] : undefined;
    if (file.current && !c)
      throw new UsageError(`config file ${path}: current context ${JSON.stringify(file.current)} does not exist (sixpn context use NAME)`);
    // A context's token belongs to its API: take it only with that API.
    if (c && (!api || api === c.api)) {
      api ??= c.api;
      token ??= c.token ?? (c.token_file ? readTokenFile(c.token_file, `context ${file.current} token_file`) : undefined);
      ca ??= c.ca;
    }
  }
  if (!api) throw new UsageError('no API URL: pass --api, set SIXPN_API_URL, add a context (sixpn context add), or run `sixpn up` first');
  if (!token) throw new UsageError('no token: pass --token or --token-file, set SIXPN_TOKEN, or run `sixpn up` first');
  if (!/^https?:\/\//.test(api)) api = `http://${api}`;
  return { api: api.replace(/\/$/, ''), token, ...(ca ? { ca } : {}) };
}

/** The invoking user of `sudo`, from $SUDO_USER and a passwd file's text: their home, uid and gid. */
export function sudoUser(env: NodeJS.ProcessEnv, passwd: string): { name: string; home: string; uid: number; gid: number } | null {
  const name = env.SUDO_USER;
  if (!name || name === 'root') return null;
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 6) return { name, home: f[5]!, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}
