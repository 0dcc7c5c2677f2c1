// `sixpn context list|use|add`: named coordinators in the CLI's config file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { addContext, readConfigFile, userConfigPath, writeConfigFile, type CliContext } from '../config.js';
import { bool, json, need, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { httpUrl } from '../flags.js';
import { printJson, printTable } from '../output.js';
import type { Context } from '../spec.js';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

function contextName(s: string): string {
  if (!NAME.test(s)) throw new UsageError(`context name ${JSON.stringify(s)} must be 1-63 letters, digits, '.', '_' or '-'`);
  return s;
}

export async function list(ctx: Context): Promise<number> {
  const path = userConfigPath();
  const file = readConfigFile(path);
  const rows = Object.entries(file.contexts).map(([name, c]) => ({
    current: name === file.current ? '*' : '',
    name,
    api: c.api,
    token: c.token ? 'inline' : c.token_file ? `file ${c.token_file}` : null,
    ca: c.ca ?? null,
  }));
  if (json(ctx)) printJson({ config: path, current: file.current, contexts: rows.map(({ current: _, ...r }) => r) });
  else printTable(rows, ['current', 'name', 'api', 'token', 'ca']);
  return 0;
}

export async function use(ctx: Context): Promise<number> {
  const name = contextName(ctx.args[0]!);
  const path = userConfigPath();
  const file = readConfigFile(path);
  if (!file.contexts[name]) {
    const known = Object.keys(file.contexts);
    throw new UsageError(`no context ${JSON.stringify(name)} in ${path} (${known.length ? `known: ${known.join(', ')}` : 'none yet: sixpn context add'})`);
  }
  file.current = name;
  writeConfigFile(path, file);
  if (json(ctx)) printJson({ current: name });
  else process.stdout.write(`using context ${name} (${file.contexts[name].api})\n`);
  return 0;
}

export async function add(ctx: Context): Promise<number> {
  const name = contextName(ctx.args[0]!);
  const api = httpUrl(need(ctx.flags, 'api'), 'api');
  const token = str(ctx.flags, 'token');
  const tokenFile = str(ctx.flags, 'token-file');
  const ca = str(ctx.flags, 'ca');
  if (token && tokenFile) throw new UsageError('give --token or --token-file, not both', { showUsage: true });
  if (!token && !tokenFile) throw new UsageError('--token or --token-file is required', { showUsage: true });
  // Files are kept by absolute path: the CLI runs from anywhere.
  const abs = (f: string, flag: string): string => {
    if (!existsSync(f)) throw new UsageError(`--${flag} ${f}: no such file`);
    return resolve(f);
  };
  const c: CliContext = {
    api,
    ...(token ? { token } : {}),
    ...(tokenFile ? { token_file: abs(tokenFile, 'token-file') } : {}),
    ...(ca ? { ca: abs(ca, 'ca') } : {}),
  };
  const path = userConfigPath();
  const current = addContext(path, name, c, { use: bool(ctx.flags, 'use') });
  if (json(ctx)) printJson({ config: path, name, current });
  else
    process.stdout.write(
      `context ${name} (${api}) saved in ${path}${current ? '; it is the current context' : `; sixpn context use ${name} to switch to it`}\n`,
    );
  return 0;
}
