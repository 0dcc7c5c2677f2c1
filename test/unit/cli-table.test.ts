// The command table and what is made from it: help at every level, the
// parser's usage errors, the README's CLI reference, and the completion
// scripts (checked by the real shells: bash -n and a completion run, zsh -n,
// fish -n and fish's own completer).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bashScript, fishScript, zshScript } from '../../src/cli/completion.js';
import { UsageError } from '../../src/cli/errors.js';
import { helpText, nearest } from '../../src/cli/help.js';
import { parseCommandLine } from '../../src/cli/program.js';
import { allFlags, commandPath, findCommand, leaves, reference, REFERENCE_END, REFERENCE_START, type CommandSpec } from '../../src/cli/spec.js';
import { TABLE } from '../../src/cli/table.js';
import { packageRoot } from '../../src/cli/commands/install-units.js';
import { tempDir } from '../../testkit/tmp.js';

/** Every command path: the root, each noun, each verb. */
function paths(spec: CommandSpec = TABLE, prefix: string[] = []): string[][] {
  return [prefix, ...(spec.commands ?? []).flatMap((c) => paths(c, [...prefix, c.name]))];
}

describe('CLI command table', () => {
  it('every command has a one-line summary; every leaf a handler (but help); every flag a meaning; no name twice', () => {
    for (const path of paths()) {
      const spec = findCommand(TABLE, path)!;
      assert.ok(spec.summary && !spec.summary.includes('\n') && !spec.summary.endsWith('.'), path.join(' '));
      if (!spec.commands && path[0] !== 'help' && path.length) assert.ok(spec.run, `${path.join(' ')} has no handler`);
      const names = (spec.commands ?? []).map((c) => c.name);
      assert.equal(new Set(names).size, names.length, `${path.join(' ')}: a command twice`);
      const flags = allFlags(spec).map((f) => f.name);
      assert.equal(new Set(flags).size, flags.length, `${path.join(' ')}: a flag twice`);
      for (const f of allFlags(spec)) assert.ok(f.help, `${path.join(' ')} --${f.name}`);
    }
  });

  for (const path of paths()) {
    it(`help for \`${['sixpn', ...path].join(' ')}\` lists what it offers, with descriptions`, () => {
      const spec = findCommand(TABLE, path)!;
      const raw = helpText(TABLE, path);
      assert.match(raw, new RegExp(`^usage: ${['sixpn', ...path].join(' ')}`));
      const text = raw.replace(/\s+/g, ' '); // help wraps long lines
      assert.ok(text.includes(spec.summary), 'its own summary');
      for (const c of spec.commands ?? []) assert.match(text, new RegExp(` ${c.name}\\b[^:]*? ${escape(c.summary)}`), `${c.name} with its summary`);
      if (!spec.commands)
        for (const f of allFlags(spec).filter((x) => !x.hidden)) assert.ok(text.includes(`--${f.name}`) && text.includes(f.help), `--${f.name}`);
      for (const f of spec.flags ?? []) if (f.default !== undefined) assert.ok(text.includes(`default: ${f.default}`), `default of --${f.name}`);
      for (const e of spec.examples ?? []) assert.ok(text.includes(e), `example ${e}`);
      // `sixpn help PATH` prints this very text
      let out = '';
      if (path[0] !== 'help')
        assert.throws(() =>
          parseCommandLine(TABLE, [...path, '--help'], (s) => {
            out += s;
          }),
        );
      if (path[0] !== 'help') assert.equal(out, raw);
      assert.ok(text.includes('-h, --help'));
    });
  }
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('CLI parsing (commander under the table)', () => {
  const parse = (...argv: string[]) => parseCommandLine(TABLE, argv);
  const usage = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parse(...argv),
      (e: unknown) => e instanceof UsageError && e.showUsage && re.test(e.message) && !e.message.includes('\n'),
    );

  it('gives the handler its path, arguments and flags (repeatable, --x=v, --no-x)', () => {
    const p = parse('machines', 'create', '--app', 'web', '--region=ams', '--meta', 'a=1', '--meta', 'b=2', '--json');
    assert.deepEqual(p.path, ['machines', 'create']);
    assert.deepEqual([p.flags.app, p.flags.region, p.flags.meta, p.flags.json, p.flags.stopped], ['web', 'ams', ['a=1', 'b=2'], true, undefined]);
    assert.deepEqual(parse('wireguard', 'create', 'acme', 'ams', 'laptop').args, ['acme', 'ams', 'laptop']);
    assert.equal(parse('up', '--no-agent').flags['no-agent'], true);
    assert.equal(parse('up').flags['no-agent'], false);
  });

  it('usage errors say what is wrong, on one line, and suggest the nearest name', () => {
    usage(['machnes'], /^unknown command "machnes" \(did you mean machines\?\)$/);
    usage(['machines', 'crate'], /^unknown machines command "crate" \(did you mean create\?\)$/);
    usage(['orgs', 'frob'], /^unknown orgs command "frob"$/);
    usage(['orgs'], /^missing orgs command: create, list, show$/);
    usage(['orgs', 'create'], /^missing argument NAME$/);
    usage(['orgs', 'create', 'a', 'b'], /^unexpected argument "b"$/);
    usage(['orgs', 'list', 'x'], /^unexpected argument "x" \(sixpn orgs list takes no positional arguments\)$/);
    usage(['machines', 'create', '--regoin', 'ams'], /^Unknown option '--regoin' \(did you mean --region\?\)$/);
    usage(['machines', 'list', '--ap', 'web'], /^Unknown option '--ap' \(did you mean --app or --api\?\)$/);
    usage(['machines', 'list', '--app'], /^--app needs a value$/);
  });

  it('--help and --version print and stop', () => {
    for (const argv of [['--help'], ['machines', '--help'], ['machines', 'create', '-h'], ['--version']]) {
      let out = '';
      assert.throws(
        () =>
          parseCommandLine(TABLE, argv, (s) => {
            out += s;
          }),
        (e: unknown) => (e as Error).constructor.name === 'HelpShown',
      );
      assert.ok(out.length > 0, argv.join(' '));
    }
  });

  it('suggests only near names', () => {
    assert.deepEqual(nearest('machnes', ['machines', 'hosts']), ['machines']);
    assert.deepEqual(nearest('tokns', ['tokens', 'orgs']), ['tokens']);
    assert.deepEqual(nearest('zzz', ['tokens', 'orgs']), []);
  });
});

describe('README CLI reference', () => {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf(REFERENCE_START), readme.indexOf(REFERENCE_END));
  const lines = block.split('\n').filter((l) => l.startsWith('sixpn '));

  it('lists every command of the table, and only those', () => {
    assert.ok(readme.includes(REFERENCE_START) && readme.includes(REFERENCE_END), 'the markers');
    const listed = lines.map((l) =>
      l
        .split(' ')
        .slice(1)
        .filter((w) => /^[a-z][a-z-]*$/.test(w)),
    );
    for (const { path } of leaves(TABLE)) {
      assert.ok(
        listed.some((w) => path.every((p, i) => w[i] === p)),
        `${path.join(' ')} is missing from the README`,
      );
    }
    for (const words of listed) {
      const path = commandPath(TABLE, words);
      assert.ok(path.length && !findCommand(TABLE, path)!.commands, `README: sixpn ${words.join(' ')} is not a command`);
    }
  });

  it('is exactly what the table makes (`npm run docs:cli` rewrites it)', () => {
    assert.equal(block.slice(REFERENCE_START.length).replace(/^\n```\n|```\n$/g, ''), reference(TABLE));
  });
});

describe('shell completion scripts', function () {
  this.timeout(20_000);
  const dir = tempDir('sixpn-completion-');
  after(() => dir.remove());
  const write = (name: string, text: string): string => {
    const f = join(dir.path, name);
    writeFileSync(f, text);
    return f;
  };

  it('bash: `bash -n` accepts it, and it completes nouns, verbs, flags and flag values', () => {
    const file = write('sixpn.bash', bashScript(TABLE));
    const n = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    assert.equal(n.status, 0, n.stderr);
    const complete = (...words: string[]): string =>
      execFileSync(
        'bash',
        ['-c', `source ${file}; COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _sixpn; echo "\${COMPREPLY[*]}"`, 'x', 'sixpn', ...words],
        { encoding: 'utf8' },
      ).trim();
    assert.equal(complete('mach'), 'machines');
    assert.equal(complete('machines', ''), 'create run list show start stop destroy metadata');
    assert.equal(complete('machines', 'metadata', ''), 'get set unset');
    assert.equal(complete('machines', 'create', '--re'), '--region');
    assert.equal(complete('agent', '--driver', ''), 'netns hook');
    assert.equal(complete('dns', '--log-level', 'w'), 'warn');
    assert.equal(complete('help', 'wireguard', 'st'), 'status');
    assert.equal(complete('completion', ''), 'bash zsh fish');
  });

  it('zsh: `zsh -n` accepts it', () => {
    const r = spawnSync('zsh', ['-n', write('_sixpn', zshScript(TABLE))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('fish: `fish -n` accepts it, and fish completes with it', () => {
    const file = write('sixpn.fish', fishScript(TABLE));
    const n = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
    assert.equal(n.status, 0, n.stderr);
    const out = execFileSync('fish', ['-c', `source ${file}; complete -C 'sixpn machines create --re'; complete -C 'sixpn mach'`], { encoding: 'utf8' });
    assert.match(out, /^--region\tthe region/m);
    assert.match(out, /^machines\t/m);
  });
});
