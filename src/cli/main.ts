// `sixpn` entry point: parse against the command table, run the command's
// handler; exit 0 ok, 1 the command failed, 2 bad usage. Every error is one
// line `sixpn NOUN: why` on stderr; bad usage adds the command's usage.
import { AppError, ConfigError } from '../errors.js';
import { ApiError, UnreachableError } from '../client/errors.js';
import { CliError, UsageError } from './errors.js';
import { didYouMean, helpText } from './help.js';
import { HelpShown, parseCommandLine } from './program.js';
import { commandPath, findCommand, usageLine } from './spec.js';
import { TABLE } from './table.js';

const stdout = (s: string): void => {
  process.stdout.write(s);
};

/** `sixpn help [NOUN [VERB]]` */
function help(words: readonly string[]): number {
  const path = commandPath(TABLE, words);
  if (path.length < words.length) {
    const at = findCommand(TABLE, path)!;
    const word = words[path.length]!;
    throw new UsageError(
      `no command ${JSON.stringify([...path, word].join(' '))}${didYouMean(
        word,
        (at.commands ?? []).map((c) => c.name),
      )}`,
      { showUsage: true },
    );
  }
  stdout(helpText(TABLE, path));
  return 0;
}

function report(err: unknown, path: readonly string[]): number {
  const prefix = path.length ? `sixpn ${path[0]}` : 'sixpn';
  const line = (s: string, code: number): number => {
    process.stderr.write(`${prefix}: ${s}\n`);
    return code;
  };
  if (err instanceof UsageError) {
    if (!err.showUsage) return line(err.message, 2);
    const usePath = path[0] === 'help' ? [] : path;
    const usage = `usage: ${usePath.length ? usageLine(TABLE, usePath) : 'sixpn COMMAND ...'}`;
    const more = `${['sixpn', ...usePath].join(' ')} --help`;
    // Services log to the journal, where a second line is a second entry.
    return findCommand(TABLE, usePath)?.service ? line(`${err.message} (${usage}; more: ${more})`, 2) : line(`${err.message}\n${usage}   (more: ${more})`, 2);
  }
  if (err instanceof ConfigError) return line(err.message, 2);
  if (err instanceof ApiError) return line(err.summary, 1);
  if (err instanceof UnreachableError || err instanceof CliError || err instanceof AppError) return line(err.message, 1);
  const e = err as NodeJS.ErrnoException;
  return line(`${e.code ? `${e.code}: ` : ''}${e.message}`, 1);
}

/** --log-format into SIXPN_LOG_FORMAT, resolved once, so worker threads (no TTY of their own) log alike. */
function logFormatFrom(flags: Readonly<Record<string, unknown>>): void {
  const f = flags['log-format'];
  if (f !== undefined && f !== 'pretty' && f !== 'json')
    throw new UsageError(`--log-format must be pretty or json, got ${JSON.stringify(f)}`, { showUsage: true });
  const env = process.env.SIXPN_LOG_FORMAT;
  process.env.SIXPN_LOG_FORMAT = typeof f === 'string' ? f : env === 'pretty' || env === 'json' ? env : process.stderr.isTTY ? 'pretty' : 'json';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(helpText(TABLE, []));
    return 2;
  }
  const path = commandPath(TABLE, argv);
  const spec = findCommand(TABLE, path)!;
  // After `--` comes the command a machine runs: commander never sees it.
  const dash = spec.rest ? argv.indexOf('--') : -1;
  const rest = dash >= 0 ? argv.slice(dash + 1) : [];
  try {
    const p = parseCommandLine(TABLE, dash >= 0 ? argv.slice(0, dash) : argv, stdout);
    if (p.path[0] === 'help') return help(p.args);
    logFormatFrom(p.flags);
    const handler = await p.spec.run!();
    return await handler({ path: p.path, args: p.args, flags: p.flags, rest });
  } catch (err) {
    if (err instanceof HelpShown) return 0;
    return report(err, path);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sixpn: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
