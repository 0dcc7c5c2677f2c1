#!/usr/bin/env node
// After tsc: record the git commit the build came from in dist/src/build-info.json
// (null outside a git checkout), so an installed package still names its commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
let commit = null;
try {
  // Only this package's own checkout, not a repository it happens to sit in.
  if (realpathSync(git('rev-parse', '--show-toplevel')) === realpathSync(root)) commit = git('rev-parse', '--short=12', 'HEAD') || null;
} catch {
  commit = null; // no git, or not a checkout (an unpacked tarball)
}
const out = join(root, 'dist', 'src', 'build-info.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ commit })}\n`);
