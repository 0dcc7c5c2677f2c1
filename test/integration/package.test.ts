// `npm pack` → `npm install <tarball>` gives a working `sixpn` (issue 14, item 6).
// Offline: the registry is never asked; the dependencies come from a copy of this
// checkout's node_modules, which npm keeps where they satisfy the package (and
// prunes the devDependencies from).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/cli/commands/install-units.js';
import { tempDir } from '../../testkit/tmp.js';

const run = promisify(execFile);

describe('the npm package', function () {
  this.timeout(600_000);
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dir = tempDir('sixpn-pack-');
  const prefix = join(dir.path, 'prefix');
  const bin = join(prefix, 'node_modules', '.bin', 'sixpn');
  let child: ChildProcess | null = null;
  after(() => {
    child?.kill('SIGKILL');
    dir.remove();
  });

  it('declares what it ships, builds before packing, and the real Node floor', () => {
    assert.ok(pkg.files.includes('dist/src/') && pkg.files.includes('bin/'), 'files');
    assert.match(pkg.scripts.prepack, /npm run build/);
    assert.equal(pkg.engines.node, '>=20.19');
  });

  it('npm pack → npm install <tarball> (offline) → sixpn --version prints the package version', async () => {
    // prepack runs the build: the tarball holds the dist/ that bin/sixpn imports.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir.path], { cwd: root, maxBuffer: 64 << 20 });
    const info = JSON.parse(packed.stdout)[0] as { filename: string; files: { path: string }[] };
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('bin/sixpn') && files.includes('dist/src/cli/main.js') && files.includes('dist/ui/index.html'), 'bin, dist and the dashboard');
    assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.startsWith('test/')), 'no tests or sources');
    cpSync(join(root, 'node_modules'), join(prefix, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    await run('npm', ['install', '--prefix', prefix, '--offline', '--omit=dev', '--no-audit', '--no-fund', join(dir.path, info.filename)], { cwd: dir.path });
    assert.ok(!existsSync(join(prefix, 'node_modules', 'typescript')), 'devDependencies are not installed');
    const v = await run(bin, ['--version']);
    assert.equal(v.stdout, `sixpn ${pkg.version}\n`);
  });

  it('the installed sixpn serves the API and the dashboard', async () => {
    child = spawn(bin, ['coordinator', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--log-level', 'info', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      let url = '';
      for (let i = 0; i < 200 && !url; i++) {
        url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1] ?? '';
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(url, `the coordinator says where it listens:\n${out}`);
      const h = (await (await fetch(`${url}/healthz`)).json()) as { version: string };
      assert.equal(h.version, pkg.version);
      assert.equal((await fetch(`${url}/ui`)).status, 200);
    } finally {
      child.kill('SIGKILL');
      child = null;
    }
  });
});
