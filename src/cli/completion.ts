// `sixpn completion bash|zsh|fish`: a completion script made from the command
// table. Each script holds the table's words as data (subcommands per command
// path, flags per command, what each flag's value is) and one small walker.
import { UsageError } from './errors.js';
import { allFlags, type CommandSpec, type FlagSpec } from './spec.js';
import type { Context } from './spec.js';

interface Node {
  path: string;
  subs: { name: string; help: string }[];
  flags: FlagSpec[];
}

/** Every command path with the words that may follow it; `help` walks the tree too, `completion` takes its shells. */
function nodes(root: CommandSpec): Node[] {
  const out: Node[] = [];
  const walk = (spec: CommandSpec, path: string[], prefix = ''): void => {
    const key = [prefix, ...path].filter(Boolean).join(' ');
    const subs =
      spec.commands?.map((c) => ({ name: c.name, help: c.summary })) ?? (spec.args?.[0]?.choices ?? []).map((c) => ({ name: c, help: spec.args![0]!.help }));
    out.push({ path: key, subs, flags: prefix || spec.commands ? [] : allFlags(spec).filter((f) => !f.hidden) });
    for (const c of spec.commands ?? []) walk(c, [...path, c.name], prefix);
  };
  walk(root, []);
  // `sixpn help NOUN VERB`
  const nouns = (root.commands ?? []).filter((c) => c.name !== 'help');
  const help = out.find((n) => n.path === 'help')!;
  help.subs = nouns.map((c) => ({ name: c.name, help: c.summary }));
  for (const c of nouns) if (c.commands) out.push({ path: `help ${c.name}`, subs: c.commands.map((v) => ({ name: v.name, help: v.summary })), flags: [] });
  return out;
}

/** What a flag's value completes to: `file`, `dir`, a word list, or `value` (anything). */
function valueKind(f: FlagSpec): string {
  return f.complete ?? (f.choices ? f.choices.join(' ') : 'value');
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(root: CommandSpec): string {
  const ns = nodes(root);
  const cases = (rows: [string, string][]): string => rows.map(([k, v]) => `    ${sq(k)}) echo ${sq(v)} ;;`).join('\n');
  return `# bash completion for sixpn (made by \`sixpn completion bash\`; load it with: source <(sixpn completion bash))
_sixpn_subs() {
  case "$1" in
${cases(ns.filter((n) => n.subs.length).map((n) => [n.path, n.subs.map((s) => s.name).join(' ')]))}
  esac
}
_sixpn_flags() {
  case "$1" in
${cases(ns.filter((n) => n.flags.length).map((n) => [n.path, [...n.flags.map((f) => `--${f.name}`), '--help'].join(' ')]))}
  esac
}
# what the value of flag $2 of command $1 is: file, dir, value, or the words it takes
_sixpn_value() {
  case "$1 $2" in
${cases(ns.flatMap((n) => n.flags.filter((f) => f.value).map((f): [string, string] => [`${n.path} --${f.name}`, valueKind(f)])))}
  esac
}
_sixpn() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ " $(_sixpn_subs "$path") " == *" $w "* ]] || break
    path="\${path:+$path }$w"
  done
  local kind
  kind="$(_sixpn_value "$path" "$prev")"
  case "$kind" in
    '') ;;
    file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    value) COMPREPLY=(); return ;;
    *) mapfile -t COMPREPLY < <(compgen -W "$kind" -- "$cur"); return ;;
  esac
  local subs
  subs="$(_sixpn_subs "$path")"
  if [[ -n "$subs" && "$cur" != -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_sixpn_flags "$path")" -- "$cur")
  fi
}
complete -o default -F _sixpn sixpn
`;
}

/** zsh: `name:description` (colons in the name escaped). */
const zItem = (name: string, help: string): string => `${name.replace(/:/g, '\\:')}:${help}`;

export function zshScript(root: CommandSpec): string {
  const ns = nodes(root);
  const assoc = (name: string, rows: [string, string[]][]): string =>
    `typeset -gA ${name}\n${name}=(\n${rows.map(([k, v]) => `  ${sq(k)} ${sq(v.join('\n'))}`).join('\n')}\n)`;
  return `#compdef sixpn
# zsh completion for sixpn (made by \`sixpn completion zsh\`; put it in a directory of $fpath as _sixpn,
# or load it with: source <(sixpn completion zsh))
${assoc(
  '_sixpn_subs',
  ns.filter((n) => n.subs.length).map((n) => [n.path, n.subs.map((s) => zItem(s.name, s.help))]),
)}
${assoc(
  '_sixpn_flags',
  ns.filter((n) => n.flags.length).map((n) => [n.path, [...n.flags.map((f) => zItem(`--${f.name}`, f.help)), '--help:show this help']]),
)}
${assoc(
  '_sixpn_values',
  ns.flatMap((n) => n.flags.filter((f) => f.value).map((f): [string, string[]] => [`${n.path} --${f.name}`, [valueKind(f)]])),
)}
_sixpn() {
  local p="" w i kind
  local -a items
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    (( \${+_sixpn_subs[$p]} )) || break
    items=("\${(@f)_sixpn_subs[$p]}")
    (( \${items[(I)$w:*]} )) || break
    p="\${p:+$p }$w"
  done
  kind="\${_sixpn_values[$p \${words[CURRENT-1]}]}"
  case "$kind" in
    '') ;;
    file) _files; return ;;
    dir) _files -/; return ;;
    value) _message 'value'; return ;;
    *) compadd -- \${=kind}; return ;;
  esac
  if (( \${+_sixpn_subs[$p]} )) && [[ "$PREFIX" != -* ]]; then
    items=("\${(@f)_sixpn_subs[$p]}")
    _describe 'command' items
  elif (( \${+_sixpn_flags[$p]} )); then
    items=("\${(@f)_sixpn_flags[$p]}")
    _describe 'option' items
  fi
}
if [[ "\${funcstack[1]}" == _sixpn ]]; then _sixpn "$@"; else compdef _sixpn sixpn; fi
`;
}

export function fishScript(root: CommandSpec): string {
  const ns = nodes(root);
  const fq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines: string[] = [];
  for (const n of ns) {
    for (const f of n.flags) {
      const kind = valueKind(f);
      const value = !f.value
        ? ''
        : kind === 'file'
          ? ' -r -F'
          : kind === 'dir'
            ? ` -x -a '(__fish_complete_directories)'`
            : kind === 'value'
              ? ' -x'
              : ` -x -a ${fq(kind)}`;
      lines.push(`complete -c sixpn -n ${fq(`__sixpn_at ${fq(n.path)}`)} -l ${f.name}${value} -d ${fq(f.help)}`);
    }
  }
  const subs = ns
    .filter((n) => n.subs.length)
    .map((n) => `    case ${fq(n.path)}\n${n.subs.map((s) => `      printf '%s\\t%s\\n' ${fq(s.name)} ${fq(s.help)}`).join('\n')}`);
  return `# fish completion for sixpn (made by \`sixpn completion fish\`; save it as ~/.config/fish/completions/sixpn.fish)
function __sixpn_subs
  switch "$argv[1]"
${subs.join('\n')}
  end
end
function __sixpn_path
  set -l words (commandline -opc)
  set -e words[1]
  set -l p ''
  for w in $words
    contains -- $w (__sixpn_subs "$p" | string replace -r '\\t.*' '') ; or break
    set p (string trim -- "$p $w")
  end
  echo $p
end
function __sixpn_at
  test (__sixpn_path) = "$argv[1]"
end
complete -c sixpn -f
function __sixpn_has_subs
  set -l s (__sixpn_subs (__sixpn_path))
  test (count $s) -gt 0
end
complete -c sixpn -n __sixpn_has_subs -a '(__sixpn_subs (__sixpn_path))'
complete -c sixpn -s h -l help -d 'show this help'
${lines.join('\n')}
`;
}

export const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** `sixpn completion SHELL` for the command tree `root` (the table passes itself, so this module never imports it). */
export function completionCommandFor(root: CommandSpec): (ctx: Context) => Promise<number> {
  return async (ctx) => {
    const shell = ctx.args[0]!;
    const make = SHELLS[shell as keyof typeof SHELLS];
    if (!make) throw new UsageError(`no completion for shell ${JSON.stringify(shell)}: bash, zsh or fish`, { showUsage: true });
    process.stdout.write(make(root));
    return 0;
  };
}
