// `sixpn dns` as a process: fed by a real coordinator over HTTP, SERVFAIL
// until the first snapshot then scoped answers (loopback is in no network:
// REFUSED), clean exit on SIGTERM, exit 2 on usage errors.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KEY_A, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { dig, digHeader } from '../../testkit/dns-packets.js';
import { freePort } from '../../testkit/dns-knot.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function sixpn(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIXPN_API_URL: '', SIXPN_TOKEN: '' } });
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
  return { child, done };
}

describe('sixpn dns (process)', () => {
  let c: TestCoordinator;
  let reader: string;
  const children: ChildProcess[] = [];
  before(async () => {
    c = await testCoordinator({ heartbeatMs: 200 });
    await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A });
    reader = (await c.call('POST', '/v1/tokens', { scope: 'reader' })).json.token;
  });
  after(async () => {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
    await c.close();
  });

  it('serves once fed, refuses loopback (no `up` rule), stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const p = sixpn(['dns', '--coordinator', c.url, '--token', reader, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn']);
    children.push(p.child);
    let status = '';
    for (let i = 0; i < 100 && status !== 'REFUSED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await dig('127.0.0.1', port, 'web.internal', 'AAAA').then(
        (o) => digHeader(o).status,
        () => 'no answer',
      );
      assert.ok(['no answer', 'SERVFAIL', 'REFUSED'].includes(status), status);
    }
    assert.equal(status, 'REFUSED');
    p.child.kill('SIGTERM');
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`serving \\.internal on 127\\.0\\.0\\.1:${port}`));
  });

  it('exits 1 when it cannot listen', async () => {
    const port = await freePort();
    const a = sixpn(['dns', '--coordinator', c.url, '--token', reader, '--listen', `127.0.0.1:${port}`, '--log-level', 'silent']);
    children.push(a.child);
    for (let i = 0; i < 100; i++) {
      if (
        await dig('127.0.0.1', port, 'web.internal', 'AAAA').then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const b = sixpn(['dns', '--coordinator', c.url, '--token', reader, '--listen', `127.0.0.1:${port}`, '--log-level', 'silent']);
    const rb = await b.done;
    assert.equal(rb.code, 1);
    assert.match(rb.stderr, /EADDRINUSE/);
    a.child.kill('SIGTERM');
    assert.equal((await a.done).code, 0);
  });

  it('exits 2 with a one-line message on usage errors', async () => {
    const r = await sixpn(['dns', '--coordinator', c.url]).done;
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^sixpn dns: --token T is required/);
  });
});
