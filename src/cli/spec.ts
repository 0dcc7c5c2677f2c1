// The shape of the command table (src/cli/table.ts) and what is derived from
// it without commander: lookups, usage lines, the README reference.

/** A flag's parsed value: a string, true, or every value of a repeatable flag. */
export type FlagValue = string | boolean | string[] | undefined;
export type Flags = Readonly<Record<string, FlagValue>>;

export interface FlagSpec {
  /** long name without the dashes: `listen`, `no-agent` */
  name: string;
  /** placeholder of the value (`HOST:PORT`); absent for a switch */
  value?: string;
  /** what it means, one line */
  help: string;
  /** the default, as shown in help */
  default?: string;
  /** the environment variable read when the flag is absent */
  env?: string;
  /** may be given more than once */
  repeat?: boolean;
  /** needed (checked by the command, shown in usage lines) */
  required?: boolean;
  /** the values it takes (help, completion) */
  choices?: readonly string[];
  /** what to complete the value with */
  complete?: 'file' | 'dir';
  /** accepted but not shown (e.g. --json where it has no effect) */
  hidden?: boolean;
}

export interface ArgSpec {
  name: string;
  help: string;
  optional?: boolean;
  choices?: readonly string[];
}

export interface Context {
  /** command path: ['machines', 'create'] */
  path: readonly string[];
  args: readonly string[];
  flags: Flags;
  /** the words after `--` (commands with `rest`) */
  rest: readonly string[];
}

export type Handler = (ctx: Context) => Promise<number>;

export interface CommandSpec {
  name: string;
  /** one line, no final period */
  summary: string;
  /** more, shown under the usage line of its own help */
  description?: string;
  args?: readonly ArgSpec[];
  /** the command line after `--` (`CMD [ARGS]`) */
  rest?: string;
  flags?: readonly FlagSpec[];
  /** talks to the API: takes --api and --token */
  client?: boolean;
  /** a long-running service (its usage errors stay on one line, for the journal) */
  service?: boolean;
  examples?: readonly string[];
  /** group heading in the parent's help */
  group?: string;
  /** a leaf: loads its handler (lazily, so `--help` loads nothing) */
  run?: () => Promise<Handler>;
  /** a noun: its verbs */
  commands?: readonly CommandSpec[];
}

export const JSON_FLAG: FlagSpec = { name: 'json', help: 'print JSON instead of text' };
export const CLIENT_FLAGS: readonly FlagSpec[] = [
  { name: 'api', value: 'URL', help: 'coordinator API URL', env: 'SIXPN_API_URL', default: 'the config `sixpn up` writes' },
  { name: 'token', value: 'T', help: 'API token', env: 'SIXPN_TOKEN', default: 'the config `sixpn up` writes' },
  { name: 'token-file', value: 'FILE', help: 'read the API token from FILE (keeps it out of ps and shell history)', env: 'SIXPN_TOKEN_FILE', complete: 'file' },
  { name: 'ca', value: 'FILE', help: "PEM of the CA that signs the coordinator's certificate (replaces the system CAs)", env: 'SIXPN_CA', complete: 'file' },
];

/** Every flag a command takes, the common ones included. */
export function allFlags(spec: CommandSpec): FlagSpec[] {
  const own = spec.flags ?? [];
  const json = own.some((f) => f.name === 'json') ? [] : [spec.service ? { ...JSON_FLAG, hidden: true } : JSON_FLAG];
  return [...own, ...json, ...(spec.client ? CLIENT_FLAGS : [])];
}

/** The spec at `path`, or undefined. */
export function findCommand(root: CommandSpec, path: readonly string[]): CommandSpec | undefined {
  let at: CommandSpec | undefined = root;
  for (const name of path) at = at?.commands?.find((c) => c.name === name);
  return at;
}

/** The longest prefix of `argv` that names commands (nouns and verbs come before any flag). */
export function commandPath(root: CommandSpec, argv: readonly string[]): string[] {
  const path: string[] = [];
  let at = root;
  for (const word of argv) {
    const next = at.commands?.find((c) => c.name === word);
    if (!next) break;
    path.push(word);
    at = next;
  }
  return path;
}

/** Every leaf with its path, in table order. */
export function leaves(root: CommandSpec, prefix: string[] = []): { path: string[]; spec: CommandSpec }[] {
  return (root.commands ?? []).flatMap((c) => (c.commands ? leaves(c, [...prefix, c.name]) : [{ path: [...prefix, c.name], spec: c }]));
}

const argWord = (a: ArgSpec): string => (a.optional ? `[${a.name}]` : a.name);
/** A flag's value as shown: its few choices (`netns|hook`), else its placeholder. */
export const valueWord = (f: FlagSpec): string => (f.choices && f.choices.length <= 3 ? f.choices.join('|') : (f.value ?? ''));
export const flagWord = (f: FlagSpec): string => `--${f.name}${f.value ? ` ${valueWord(f)}` : ''}`;

/** `NAME [FILE]` and `-- CMD [ARGS]`. */
export function argsLine(spec: CommandSpec): string {
  return [...(spec.args ?? []).map(argWord), ...(spec.rest ? [`-- ${spec.rest}`] : [])].join(' ');
}

/** Short usage: arguments, required flags, then [options]. */
export function usageLine(root: CommandSpec, path: readonly string[]): string {
  const spec = findCommand(root, path)!;
  const head = [root.name, ...path].join(' ');
  if (spec.commands) return `${head} ${spec.commands.map((c) => c.name).join('|')} ...`;
  const required = (spec.flags ?? []).filter((f) => f.required).map(flagWord);
  const args = (spec.args ?? []).map(argWord);
  return [head, ...args, ...required, '[options]', ...(spec.rest ? [`-- ${spec.rest}`] : [])].join(' ');
}

/** Full usage in words: every shown flag (common ones left out), for the README reference. */
export function referenceWords(root: CommandSpec, path: readonly string[]): string[] {
  const spec = findCommand(root, path)!;
  const flags = (spec.flags ?? [])
    .filter((f) => !f.hidden)
    .map((f) => {
      const w = f.required ? flagWord(f) : `[${flagWord(f)}]`;
      return f.repeat ? `${w}...` : w;
    });
  return [[root.name, ...path].join(' '), ...(spec.args ?? []).map(argWord), ...flags, ...(spec.rest ? [`-- ${spec.rest}`] : [])];
}

/** The README's CLI reference: one entry per command, wrapped at `width`. */
export function reference(root: CommandSpec, width = 110): string {
  const out: string[] = [];
  for (const { path } of leaves(root)) {
    let line = '';
    for (const w of referenceWords(root, path)) {
      if (line && line.length + 1 + w.length > width) {
        out.push(line);
        line = `    ${w}`;
      } else line = line ? `${line} ${w}` : w;
    }
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/** The README holds the reference between these lines. */
export const REFERENCE_START = '<!-- cli-reference: made from src/cli/table.ts by `npm run docs:cli`; test/unit/cli-table.test.ts checks it -->';
export const REFERENCE_END = '<!-- /cli-reference -->';

/** `readme` with its reference block replaced by `ref`; null when the markers are missing. */
export function withReference(readme: string, ref: string): string | null {
  const a = readme.indexOf(REFERENCE_START);
  const b = readme.indexOf(REFERENCE_END);
  if (a < 0 || b < a) return null;
  return `${readme.slice(0, a + REFERENCE_START.length)}\n\`\`\`\n${ref}\`\`\`\n${readme.slice(b)}`;
}
