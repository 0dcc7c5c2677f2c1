// Help text for any level of the command table, and "did you mean" hints.
import { allFlags, argsLine, findCommand, flagWord, usageLine, type CommandSpec, type FlagSpec } from './spec.js';

const WIDTH = 100;

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = indent + w;
    } else line = line ? `${line} ${w}` : indent + w;
  }
  if (line) out.push(line);
  return out;
}

/** `  term   description`, the description wrapped under itself. */
function items(rows: [string, string][]): string[] {
  const w = Math.min(32, Math.max(...rows.map(([t]) => t.length)));
  return rows.flatMap(([term, text]) => {
    const pad = ' '.repeat(w + 4);
    const first = `  ${term.padEnd(w)}  `;
    const body = wrap(text, WIDTH - pad.length, '');
    if (term.length > w) return [`  ${term}`, ...body.map((l) => pad + l)];
    return [first + (body[0] ?? ''), ...body.slice(1).map((l) => pad + l)];
  });
}

function flagText(f: FlagSpec): string {
  const notes = [
    ...(f.required ? ['required'] : []),
    ...(f.repeat ? ['repeatable'] : []),
    ...(f.choices && f.value ? [`one of ${f.choices.join(', ')}`] : []),
    ...(f.default !== undefined ? [`default: ${f.default}`] : []),
    ...(f.env ? [`env ${f.env}`] : []),
  ];
  return notes.length ? `${f.help} (${notes.join('; ')})` : f.help;
}

function subTerm(c: CommandSpec): string {
  if (c.commands) return `${c.name} ${c.commands.map((v) => v.name).join('|')}`;
  const a = argsLine(c);
  return a ? `${c.name} ${a}` : c.name;
}

/** Help for the command at `path` (the root when empty). */
export function helpText(root: CommandSpec, path: readonly string[]): string {
  const spec = findCommand(root, path)!;
  const full = [root.name, ...path].join(' ');
  const out = [`usage: ${path.length ? usageLine(root, path) : `${root.name} COMMAND ...`}`, ''];
  out.push(...wrap(path.length ? `${full}: ${spec.summary}.` : `${root.name}: ${spec.summary}.`, WIDTH, ''));
  if (spec.description) out.push(...wrap(spec.description, WIDTH, ''));
  if (spec.commands) {
    const groups = new Map<string, CommandSpec[]>();
    for (const c of spec.commands) groups.set(c.group ?? 'commands:', [...(groups.get(c.group ?? 'commands:') ?? []), c]);
    for (const [group, cs] of groups) out.push('', group, ...items(cs.map((c) => [subTerm(c), c.summary])));
  }
  if (spec.args?.length)
    out.push('', 'arguments:', ...items(spec.args.map((a) => [a.name, a.choices ? `${a.help} (one of ${a.choices.join(', ')})` : a.help])));
  if (spec.rest) out.push('', `after --: ${spec.rest}, the command to run`);
  const flags = spec.commands ? [] : allFlags(spec).filter((f) => !f.hidden);
  const extra: [string, string][] = path.length ? [] : [['--version', 'print the version']];
  out.push('', 'options:', ...items([...flags.map((f): [string, string] => [flagWord(f), flagText(f)]), ...extra, ['-h, --help', 'show this help']]));
  if (spec.examples?.length) out.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  if (spec.commands) {
    out.push(
      '',
      path.length
        ? `\`${full} VERB --help\` (or \`sixpn help ${path.join(' ')} VERB\`) shows a verb's flags.`
        : 'Every command answers --help; `sixpn help NOUN [VERB]` does the same.',
    );
  }
  return `${out.join('\n')}\n`;
}

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidates nearest to `word` (close enough to be a typo), best first. */
export function nearest(word: string, candidates: readonly string[]): string[] {
  const scored = candidates
    .map((c) => ({ c, d: distance(word, c) }))
    .filter(({ c, d }) => d <= Math.max(1, Math.floor(c.length / 3)) || (word.length >= 3 && c.startsWith(word)));
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).map((s) => s.c);
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearest(word, candidates);
  return n.length ? ` (did you mean ${n.join(' or ')}?)` : '';
}
