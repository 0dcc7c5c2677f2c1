// `sixpn install-units [--prefix DIR] [--bin PATH] [--tls]`: put the systemd
// units in <prefix>/etc/systemd/system, with ExecStart pointing at this
// installation, and the example configs in <prefix>/etc/sixpn when absent
// (never overwritten: they hold tokens and site settings).
// `sixpn install-units --check` reads the installed units and their
// EnvironmentFiles and runs each ExecStart's flags through the real parser:
// a bad setting is reported as file:line and exits 2.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bool, str } from '../ctx.js';
import { CliError, UsageError } from '../errors.js';
import { printJson } from '../output.js';
import type { Context } from '../spec.js';

/** PATH of system services (systemd's default): `#!/usr/bin/env node` must find node there. */
const SERVICE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The package root (where package.json, systemd/ and etc/ are), found upwards from this module. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'systemd'))) return d;
    if (dirname(d) === d) throw new CliError(`cannot find the sixpn package (with systemd/) above ${from}`);
  }
}

/**
 * The ExecStart command for this installation: the `sixpn` it was started
 * as (e.g. the /usr/bin/sixpn symlink npm made, kept as a symlink so upgrades
 * apply), prefixed with node's absolute path when node is not on a service's PATH.
 */
export function execCommand(bin: string | undefined, root: string, argv1 = process.argv[1] ?? '', node = process.execPath): string {
  const sixpn = bin ? resolve(bin) : basename(argv1) === 'sixpn' ? resolve(argv1) : join(root, 'bin', 'sixpn');
  if (/\s/.test(sixpn) || /\s/.test(node)) throw new UsageError(`paths with spaces cannot go in ExecStart: ${sixpn}`);
  return SERVICE_PATH.includes(dirname(node)) ? sixpn : `${node} ${sixpn}`;
}

/** A shipped unit with ExecStart rewritten to `command`. */
export function renderUnit(text: string, command: string): string {
  return text.replace(/^(ExecStart=)\/usr\/bin\/sixpn(?= )/m, `$1${command}`);
}

// ── checking units against the CLI ─────────────────────────────────────────

export interface EnvLine {
  value: string;
  line: number;
}

/** systemd EnvironmentFile syntax: VAR=value, # or ; comments, quotes stripped, \ continues a line. */
export function parseEnvFile(text: string, file: string): Map<string, EnvLine> {
  const out = new Map<string, EnvLine>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const at = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(t);
    if (!m) throw new UsageError(`${file}:${at}: not VAR=value: ${JSON.stringify(t.slice(0, 60))}`);
    let v = m[2]!;
    const q = v[0];
    if (q === '"' || q === "'") {
      if (!v.endsWith(q) || v.length < 2) throw new UsageError(`${file}:${at}: unterminated ${q} quote`);
      v = v.slice(1, -1);
    }
    out.set(m[1]!, { value: v, line: at });
  }
  return out;
}

/** The unit's ExecStart, and its EnvironmentFile= paths. */
export function unitExec(unit: string): { exec: string; envFiles: string[] } {
  const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1]?.trim();
  if (!exec) throw new UsageError('no ExecStart= in the unit');
  const envFiles = [...unit.matchAll(/^EnvironmentFile=-?(.+)$/gm)].map((m) => m[1]!.trim());
  return { exec, envFiles };
}

/**
 * ExecStart as systemd runs it: specifiers (%S state root, %d credentials
 * dir), `$VAR` split into words, `${VAR}` one word; unset variables vanish.
 */
export function expandExec(exec: string, env: ReadonlyMap<string, string>, unitName: string): string[] {
  const spec = (w: string): string => w.replace(/%([%Sd])/g, (_, c: string) => (c === '%' ? '%' : c === 'S' ? '/var/lib' : `/run/credentials/${unitName}`));
  const words: string[] = [];
  for (const w of exec.split(/\s+/)) {
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (bare) {
      words.push(...(env.get(bare[1]!) ?? '').split(/\s+/).filter(Boolean).map(spec));
      continue;
    }
    words.push(spec(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => env.get(k) ?? '')));
  }
  return words;
}

type Parser = (argv: string[], env: NodeJS.ProcessEnv) => unknown;

/** Variables the commands read in place of a flag. */
const FLAG_ENV: Record<string, string> = {
  '--log-level': 'SIXPN_LOG_LEVEL',
  '--db': 'SIXPN_DB_URL',
  '--coordinator': 'SIXPN_API_URL',
  '--token': 'SIXPN_TOKEN',
  '--enroll-token': 'SIXPN_ENROLL_TOKEN',
};

/** The flag parsers of the long-running subcommands, loaded only when checking. */
async function parsers(): Promise<Record<string, Parser>> {
  return {
    coordinator: (await import('./coordinator.js')).parseCoordinatorArgs,
    dns: (await import('./dns.js')).parseDnsArgs,
    agent: (await import('./agent-args.js')).parseAgentArgs,
  };
}

/**
 * Check one unit with its environment: the subcommand exists and accepts the
 * flags. Returns the subcommand and its arguments; throws a UsageError
 * naming the file and line (or the unit) at fault.
 */
export async function checkUnit(unitName: string, unit: string, envFiles: ReadonlyMap<string, { text: string; path: string }>): Promise<string[]> {
  const { exec, envFiles: wanted } = unitExec(unit);
  const env = new Map<string, string>();
  const where = new Map<string, string>(); // VAR → file:line
  for (const f of wanted) {
    const file = envFiles.get(f);
    if (file === undefined) throw new UsageError(`${unitName}: EnvironmentFile ${f} is missing`);
    for (const [k, v] of parseEnvFile(file.text, file.path)) {
      env.set(k, v.value);
      where.set(k, `${file.path}:${v.line}`);
    }
  }
  // Environment= lines (drop-ins included by the caller) add to it.
  for (const m of unit.matchAll(/^Environment="?([A-Za-z_][A-Za-z0-9_]*)=(.*?)"?$/gm)) env.set(m[1]!, m[2]!);
  const words = expandExec(exec, env, unitName);
  const i = words.findIndex((w) => basename(w) === 'sixpn');
  const sub = words[i + 1];
  const parse = (await parsers())[sub ?? ''];
  if (i < 0 || !parse) throw new UsageError(`${unitName}: ExecStart does not run a long-running sixpn subcommand: ${exec}`);
  const argv = words.slice(i + 2);
  try {
    parse(argv, Object.fromEntries(env));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // Blame the line that carries the flag named in the message (in an *_OPTS
    // variable, or the variable standing in for that flag), else the unit.
    const flag = /--[a-z][a-z-]*/.exec(err.message)?.[0];
    const inArgv = !!flag && argv.includes(flag);
    const culprit = inArgv
      ? [...env.keys()].find((k) => env.get(k)!.split(/\s+/).includes(flag) && where.has(k))
      : flag && FLAG_ENV[flag] && where.has(FLAG_ENV[flag])
        ? FLAG_ENV[flag]
        : undefined;
    throw new UsageError(`${culprit ? `${where.get(culprit)} (${culprit})` : unitName}: ${err.message.split('\n')[0]}`);
  }
  return [sub!, ...argv];
}

/** Check every sixpn unit installed under `prefix` (drop-ins included). */
export async function checkInstalled(prefix: string): Promise<{ unit: string; argv: string[] }[]> {
  const unitDir = join(prefix, 'etc/systemd/system');
  const units = existsSync(unitDir)
    ? readdirSync(unitDir)
        .filter((n) => /^sixpn-.*\.service$/.test(n))
        .sort()
    : [];
  if (units.length === 0) throw new CliError(`no sixpn units in ${unitDir}`);
  const out: { unit: string; argv: string[] }[] = [];
  for (const name of units) {
    let text = readFileSync(join(unitDir, name), 'utf8');
    const dropDir = join(unitDir, `${name}.d`);
    if (existsSync(dropDir))
      for (const d of readdirSync(dropDir)
        .filter((n) => n.endsWith('.conf'))
        .sort())
        text += `\n${readFileSync(join(dropDir, d), 'utf8')}`;
    const files = new Map<string, { text: string; path: string }>();
    for (const f of unitExec(text).envFiles) {
      const path = join(prefix, f);
      if (existsSync(path)) files.set(f, { text: readFileSync(path, 'utf8'), path });
    }
    out.push({ unit: name, argv: await checkUnit(name, text, files) });
  }
  return out;
}

interface Installed {
  path: string;
  action: 'installed' | 'kept';
}

export async function installUnitsCommand(ctx: Context): Promise<number> {
  const f = ctx.flags;
  const prefix = resolve(str(f, 'prefix') ?? '/');
  if (bool(f, 'check')) {
    const checked = await checkInstalled(prefix);
    if (bool(f, 'json')) printJson(checked);
    else for (const c of checked) process.stdout.write(`ok  ${c.unit}: sixpn ${c.argv.join(' ')}\n`);
    return 0;
  }
  const root = packageRoot();
  const command = execCommand(str(f, 'bin'), root);
  const commandBin = command.split(' ').pop()!;
  if (!existsSync(commandBin)) throw new UsageError(`--bin ${commandBin}: no such file`);
  const unitDir = join(prefix, 'etc/systemd/system');
  const etcDir = join(prefix, 'etc/sixpn');
  const done: Installed[] = [];
  try {
    mkdirSync(unitDir, { recursive: true });
    mkdirSync(etcDir, { recursive: true, mode: 0o755 });
    for (const name of readdirSync(join(root, 'systemd'))
      .filter((n) => n.endsWith('.service'))
      .sort()) {
      const dest = join(unitDir, name);
      writeFileSync(dest, renderUnit(readFileSync(join(root, 'systemd', name), 'utf8'), command), { mode: 0o644 });
      done.push({ path: dest, action: 'installed' });
    }
    for (const name of readdirSync(join(root, 'etc/sixpn'))
      .filter((n) => n.endsWith('.env'))
      .sort()) {
      const dest = join(etcDir, name);
      if (existsSync(dest)) {
        done.push({ path: dest, action: 'kept' });
        continue;
      }
      copyFileSync(join(root, 'etc/sixpn', name), dest);
      chmodSync(dest, 0o600); // tokens and database passwords go in here
      done.push({ path: dest, action: 'installed' });
    }
    if (bool(f, 'tls')) {
      const dropIn = join(unitDir, 'sixpn-coordinator.service.d');
      mkdirSync(dropIn, { recursive: true });
      const dest = join(dropIn, 'tls.conf');
      if (existsSync(dest)) done.push({ path: dest, action: 'kept' });
      else {
        copyFileSync(join(root, 'etc/sixpn/coordinator-tls.conf'), dest);
        done.push({ path: dest, action: 'installed' });
      }
      mkdirSync(join(etcDir, 'tls'), { recursive: true, mode: 0o700 });
    }
  } catch (err) {
    throw new CliError(`cannot install into ${prefix}: ${(err as Error).message}`);
  }
  // Only on the live system: a --prefix tree is for packaging or tests.
  if (prefix === '/' && existsSync('/run/systemd/system')) {
    try {
      execFileSync('systemctl', ['daemon-reload'], { stdio: 'ignore' });
    } catch {
      /* reported below as a step */
    }
  }
  if (bool(f, 'json')) {
    printJson({ exec: command, files: done });
    return 0;
  }
  process.stdout.write(
    [
      ...done.map((d) => `${d.action === 'installed' ? 'installed' : 'kept     '} ${d.path}`),
      '',
      `ExecStart runs: ${command}`,
      `next: edit ${join(etcDir, '*.env')}, then: systemctl daemon-reload && systemctl enable --now sixpn-coordinator (or sixpn-agent, sixpn-dns)`,
      '',
    ].join('\n'),
  );
  return 0;
}
