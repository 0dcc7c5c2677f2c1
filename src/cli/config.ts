// Where the CLI finds the API URL and token: flags, then SIXPN_API_URL /
// SIXPN_TOKEN, then the config file `sixpn up` writes (SIXPN_CONFIG, else
// ./data/cli.json, else ~/.config/sixpn/cli.json).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

export interface CliConfig { api: string; token: string }

export function userConfigPath(): string {
  return process.env.SIXPN_CONFIG ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'sixpn', 'cli.json');
}

function candidates(): string[] {
  if (process.env.SIXPN_CONFIG) return [process.env.SIXPN_CONFIG];
  return [resolve('data', 'cli.json'), userConfigPath()];
}

function readConfigFile(path: string): Partial<CliConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || (o.api !== undefined && typeof o.api !== 'string') || (o.token !== undefined && typeof o.token !== 'string')) {
    throw new UsageError(`config file ${path} must be an object with string "api" and "token"`);
  }
  return { api: o.api as string | undefined, token: o.token as string | undefined };
}

export function resolveConfig(flags: { api?: string; token?: string }): CliConfig {
  let api = flags.api ?? process.env.SIXPN_API_URL;
  let token = flags.token ?? process.env.SIXPN_TOKEN;
  if (!api || !token) {
    const file = candidates().find((p) => existsSync(p));
    if (file) {
      const c = readConfigFile(file);
      api ??= c.api;
      token ??= c.token;
    }
  }
  if (!api) throw new UsageError('no API URL: pass --api, set SIXPN_API_URL, or run `sixpn up` first');
  if (!token) throw new UsageError('no token: pass --token, set SIXPN_TOKEN, or run `sixpn up` first');
  if (!/^https?:\/\//.test(api)) api = `http://${api}`;
  return { api: api.replace(/\/$/, ''), token };
}

export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
