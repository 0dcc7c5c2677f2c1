// `sixpn` as a process: help at every level (exit 0, with descriptions),
// suggestions for misspelt commands and flags (exit 2 with the usage), and a
// completion script that bash accepts. No coordinator needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCommand, type CommandSpec } from '../../src/cli/spec.js';
import { TABLE } from '../../src/cli/table.js';
import { runCli } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

function paths(spec: CommandSpec = TABLE, prefix: string[] = []): string[][] {
  return [prefix, ...(spec.commands ?? []).flatMap((c) => paths(c, [...prefix, c.name]))];
}
const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

describe('sixpn help (process)', function () {
  this.timeout(120_000);
  // No config file, no API: help must need neither.
  const env = { SIXPN_CONFIG: '/nonexistent/cli.json', SIXPN_API_URL: '', SIXPN_TOKEN: '' };
  const dir = tempDir('sixpn-help-');
  after(() => dir.remove());

  it('`--help` at every level, and `sixpn help NOUN [VERB]`, exit 0 and describe every command and flag', async () => {
    const all = paths();
    for (let i = 0; i < all.length; i += 4) {
      await Promise.all(
        all.slice(i, i + 4).map(async (path) => {
          const spec = findCommand(TABLE, path)!;
          // `sixpn help PATH` is the same text (checked in-process for every path in test/unit/cli-table.test.ts): ask it of the nouns here.
          for (const argv of [[...path, '--help'], ...(path.length === 1 && path[0] !== 'help' ? [['help', ...path]] : [])]) {
            const r = await runCli(argv, env);
            assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
            assert.equal(r.stderr, '');
            assert.match(r.stdout, new RegExp(`^usage: ${['sixpn', ...path].join(' ')}`));
            const text = oneLine(r.stdout);
            for (const c of spec.commands ?? []) assert.ok(text.includes(c.summary), `${argv.join(' ')}: ${c.name}'s description`);
            for (const f of spec.commands ? [] : (spec.flags ?? []).filter((g) => !g.hidden))
              assert.ok(text.includes(f.help), `${argv.join(' ')}: --${f.name}'s meaning`);
          }
        }),
      );
    }
  });

  it('`sixpn machines --help` lists the verbs with what they do', async () => {
    const r = await runCli(['machines', '--help'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}create +create a machine of an app in a region/m);
    assert.match(r.stdout, /^ {2}destroy ID +destroy a machine/m);
  });

  it('`sixpn help machines create` shows every flag with its meaning and default, and an example', async () => {
    const r = await runCli(['help', 'machines', 'create'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: sixpn machines create --app APP --region CODE \[options\]$/m);
    assert.match(r.stdout, /^ {2}--region CODE +the region to place it in/m);
    assert.match(r.stdout, /--group G +process group \(a DNS label\) \(default: app\)/);
    assert.match(r.stdout, /--api URL .*env SIXPN_API_URL/);
    assert.match(r.stdout, /^examples:\n {2}sixpn machines create --app web/m);
  });

  it('a misspelt command suggests the nearest one (exit 2, with the usage)', async () => {
    const r = await runCli(['machnes'], env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^sixpn: unknown command "machnes" \(did you mean machines\?\)\nusage: sixpn COMMAND/);
    const verb = await runCli(['machines', 'lst', '--app', 'web'], env);
    assert.equal(verb.code, 2);
    assert.match(verb.stderr, /^sixpn machines: unknown machines command "lst" \(did you mean list\?\)\n/);
    const help = await runCli(['help', 'tokns'], env);
    assert.equal(help.code, 2);
    assert.match(help.stderr, /did you mean tokens\?/);
  });

  it("unknown flags and missing arguments exit 2 with the command's usage, before any API call", async () => {
    const flag = await runCli(['apps', 'list', '--org', 'acme', '--netwrok', 'x'], env);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "sixpn apps: Unknown option '--netwrok'\nusage: sixpn apps list --org ORG [options]   (more: sixpn apps list --help)\n");
    const arg = await runCli(['wireguard', 'remove', 'acme'], env);
    assert.equal(arg.code, 2);
    assert.match(arg.stderr, /^sixpn wireguard: missing argument NAME\nusage: sixpn wireguard remove ORG NAME \[options\]/);
    const none = await runCli([], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^usage: sixpn COMMAND/);
  });

  it('`sixpn completion bash` prints a script `bash -n` accepts; zsh and fish too', async () => {
    for (const [shell, check] of [
      ['bash', ['bash', '-n']],
      ['zsh', ['zsh', '-n']],
      ['fish', ['fish', '-n']],
    ] as const) {
      const r = await runCli(['completion', shell], env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes('sixpn'));
      const file = join(dir.path, `sixpn.${shell}`);
      writeFileSync(file, r.stdout);
      const n = spawnSync(check[0], [check[1], file], { encoding: 'utf8' });
      assert.equal(n.status, 0, `${shell}: ${n.stderr}`);
    }
    const bad = await runCli(['completion', 'tcsh'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no completion for shell "tcsh"/);
  });

  it('`sixpn --version` prints the version', async () => {
    const r = await runCli(['--version'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^sixpn \d+\.\d+\.\d+\n$/);
  });
});
