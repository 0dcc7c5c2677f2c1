// The command table as a commander program: commander parses (typed options,
// nested commands, --help at every level, --flag=value, `--`); its errors come
// back as UsageErrors in sixpn's words, with our own "did you mean".
// Commander rather than yargs: no dependencies of its own (yargs brings a
// dozen), nested commands and per-command help built in, a small typed API,
// and a help formatter we can replace whole (help text comes from the table).
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from './errors.js';
import { didYouMean, helpText } from './help.js';
import { allFlags, commandPath, findCommand, type CommandSpec, type Flags, type FlagValue } from './spec.js';
import { VERSION as PACKAGE_VERSION } from '../version.js';

/** `sixpn --version`: the package version alone (`sixpn version` adds the commit). */
export const VERSION = `sixpn ${PACKAGE_VERSION}`;

export interface Parsed {
  path: string[];
  spec: CommandSpec;
  args: string[];
  flags: Flags;
}

/** Help was printed (or the version): nothing to run. */
export class HelpShown extends Error {}

const attr = (name: string): string => name.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function readFlags(cmd: Command, spec: CommandSpec): Flags {
  const o = cmd.opts<Record<string, FlagValue>>();
  const out: Record<string, FlagValue> = {};
  for (const f of allFlags(spec)) {
    const v = o[attr(f.name)];
    // commander stores `--no-x` as x=false (default true)
    out[f.name] = f.name.startsWith('no-') ? v === false : v;
  }
  return out;
}

function build(root: CommandSpec, spec: CommandSpec, path: string[], onParsed: (p: Parsed) => void, out: (s: string) => void): Command {
  const cmd = new Command(spec.name)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: () => undefined, outputError: () => undefined })
    .configureHelp({ formatHelp: () => helpText(root, path) })
    .helpCommand(false)
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(false)
    .allowExcessArguments(true)
    .summary(spec.summary);
  if (path.length === 0) cmd.version(VERSION, '--version', 'print the version');
  for (const a of spec.args ?? []) cmd.argument(a.optional ? `[${a.name}]` : `<${a.name}>`, a.help);
  if (!spec.commands) {
    for (const f of allFlags(spec)) {
      const o = new Option(`--${f.name}${f.value ? ` <${f.value}>` : ''}`, f.help);
      if (f.repeat) o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
      cmd.addOption(o);
    }
    cmd.action(function (this: Command) {
      onParsed({ path, spec, args: [...this.args], flags: readFlags(this, spec) });
    });
  }
  for (const c of spec.commands ?? []) cmd.addCommand(build(root, c, [...path, c.name], onParsed, out));
  return cmd;
}

const quoted = (message: string): string => /'([^']*)'/.exec(message)?.[1] ?? '';

/** commander's error at `path` (the longest command prefix of argv) in sixpn's words. */
function usageError(root: CommandSpec, path: readonly string[], e: CommanderError): UsageError {
  const spec = findCommand(root, path)!;
  const usage = { showUsage: true };
  switch (e.code) {
    case 'commander.unknownOption': {
      const flag = quoted(e.message);
      return new UsageError(
        `Unknown option '${flag}'${didYouMean(
          flag.replace(/=.*/, ''),
          allFlags(spec).map((f) => `--${f.name}`),
        )}`,
        usage,
      );
    }
    case 'commander.unknownCommand': {
      const word = quoted(e.message);
      const what = path.length ? `unknown ${path.join(' ')} command` : 'unknown command';
      return new UsageError(
        `${what} ${JSON.stringify(word)}${didYouMean(
          word,
          (spec.commands ?? []).map((c) => c.name),
        )}`,
        usage,
      );
    }
    case 'commander.missingArgument':
      return new UsageError(`missing argument ${quoted(e.message)}`, usage);
    case 'commander.optionMissingArgument':
      return new UsageError(`${quoted(e.message).split(' ')[0]} needs a value`, usage);
    case 'commander.help': // a noun without its verb
      return new UsageError(`missing ${path.join(' ')} command: ${(spec.commands ?? []).map((c) => c.name).join(', ')}`, usage);
    default:
      return new UsageError(e.message.replace(/^error: /, '').split('\n')[0]!, usage);
  }
}

/**
 * Parse argv against the table. Throws HelpShown after printing help or the
 * version to `out`, a UsageError on bad usage.
 */
export function parseCommandLine(root: CommandSpec, argv: readonly string[], out: (s: string) => void = () => undefined): Parsed {
  let parsed: Parsed | null = null;
  const program = build(
    root,
    root,
    [],
    (p) => {
      parsed = p;
    },
    out,
  );
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) throw new HelpShown();
    throw usageError(root, commandPath(root, argv), err);
  }
  const p = parsed as Parsed | null;
  if (!p) throw new UsageError('no command', { showUsage: true });
  const max = p.spec.args?.length ?? 0;
  if (p.args.length > max) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(p.args[max])}${max === 0 ? ` (${['sixpn', ...p.path].join(' ')} takes no positional arguments)` : ''}`,
      { showUsage: true },
    );
  }
  return p;
}

/** Only the flags of one leaf command (the services' pure parsers, `install-units --check`). */
export function parseFlags(root: CommandSpec, path: readonly string[], argv: readonly string[]): Flags {
  const p = parseCommandLine(root, [...path, ...argv]);
  return p.flags;
}
