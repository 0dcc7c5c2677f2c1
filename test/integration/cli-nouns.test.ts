// The missing nouns and flags (issue 14, item 5) against a real `sixpn up`:
// networks, hosts show, machines show/metadata, --wait, contexts, --token-file,
// --ca, up --listen; and bad input for each.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SIXPN_MAIN, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

describe('CLI nouns and flags against `sixpn up`', function () {
  this.timeout(60_000);
  const dir = tempDir();
  const config = join(dir.path, 'cli.json');
  const env = { SIXPN_CONFIG: config, HOME: dir.path, SIXPN_API_URL: '', SIXPN_TOKEN: '', SIXPN_TOKEN_FILE: '', SIXPN_CA: '' };
  let up: Proc | null = null;
  let api = '';
  let admin = '';
  const cli = (...args: string[]) => runCli(args, env);
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const okJson = async (...args: string[]) => JSON.parse((await ok(...args, '--json')).stdout);

  before(async () => {
    // A context of the user's that `up` must keep.
    writeFileSync(config, JSON.stringify({ current: 'prod', contexts: { prod: { api: 'https://coord.example.net:4280', token: 'prodtoken' } } }));
    up = sixpn(['up', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--dns', '127.0.0.1:0', '--no-agent'], env);
    api = (await up.waitFor(/API\s+(http:\/\/\S+)/))[1]!;
    await up.waitFor(/sixpn is up/);
    admin = readFileSync(join(dir.path, 'data', 'admin.token'), 'utf8').trim();
  });
  after(async () => {
    await up?.kill('SIGKILL');
    dir.remove();
  });

  it("up adds the context local and keeps the user's others (and their current one)", async () => {
    const file = JSON.parse(readFileSync(config, 'utf8'));
    assert.equal(file.contexts.prod.token, 'prodtoken');
    assert.equal(file.contexts.local.api, api);
    assert.equal(file.current, 'prod', 'the user chose prod: up does not switch');
    assert.match(up!.stderr(), /context use local/);
    assert.equal(statSync(config).mode & 0o777, 0o600);
    const l = await okJson('context', 'list');
    assert.deepEqual(l.contexts.map((c: { name: string }) => c.name).sort(), ['local', 'prod']);
    assert.equal(l.current, 'prod');
    assert.match((await ok('context', 'list')).stdout, /^\*\s+prod\s+https:\/\/coord\.example\.net:4280/m);
    assert.match((await ok('context', 'use', 'local')).stdout, /using context local/);
    assert.equal(JSON.parse(readFileSync(config, 'utf8')).current, 'local');
  });

  it('networks create and list', async () => {
    const n = await okJson('networks', 'create', 'staging', '--org', 'personal');
    assert.equal(n.name, 'staging');
    assert.equal(n.org, 'personal');
    const list = await okJson('networks', 'list', '--org', 'personal');
    assert.deepEqual(list.map((x: { name: string }) => x.name).sort(), ['default', 'staging']);
    assert.match((await ok('networks', 'list', '--org', 'personal')).stdout, /^staging\s+fdaa:0:[0-9a-f]+::\/48/m);
    await ok('apps', 'create', 'stg', '--org', 'personal', '--network', 'staging');
    const r = await cli('networks', 'create', 'staging', '--org', 'personal');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists|conflict/);
  });

  it('hosts show and machines show', async () => {
    const hosts = await okJson('hosts', 'list');
    const h = await okJson('hosts', 'show', String(hosts[0].id));
    // the same record as the list (last_seen moves with each heartbeat)
    assert.deepEqual({ ...h, last_seen: null }, { ...hosts[0], last_seen: null });
    assert.ok(h.last_seen);
    assert.match((await ok('hosts', 'show', String(hosts[0].id))).stdout, /^status\s+reachable$/m);
    assert.match((await ok('hosts', 'show', String(hosts[0].id))).stdout, /^region\s+local$/m);
    await ok('apps', 'create', 'web', '--org', 'personal');
    const m = await okJson('machines', 'create', '--app', 'web', '--region', 'local');
    assert.equal(m.attached_at, null);
    const s = await okJson('machines', 'show', m.id);
    assert.equal(s.id, m.id);
    assert.equal(s.address, m.address);
  });

  it('machines metadata get, set, unset', async () => {
    const m = await okJson('machines', 'create', '--app', 'web', '--region', 'local', '--meta', 'zone=a');
    assert.deepEqual(await okJson('machines', 'metadata', 'set', m.id, 'role', 'primary'), { zone: 'a', role: 'primary' });
    assert.equal((await ok('machines', 'metadata', 'get', m.id, 'role')).stdout, 'primary\n');
    assert.equal((await ok('machines', 'metadata', 'get', m.id)).stdout, 'zone=a\nrole=primary\n');
    assert.deepEqual(await okJson('machines', 'metadata', 'unset', m.id, 'role'), { zone: 'a' });
    const gone = await cli('machines', 'metadata', 'get', m.id, 'role');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no metadata key "role"/);
    const bad = await cli('machines', 'metadata', 'set', m.id, 'Role!', 'x');
    assert.equal(bad.code, 2);
  });

  /** Report a machine's state as its host would (an admin token may). */
  async function report(id: string, body: Record<string, string>): Promise<void> {
    const res = await fetch(`${api}/v1/machines/${id}/status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
  }

  /** Run `machines create --wait`, and once the machine exists, act as its host. */
  async function createWaiting(extra: string[], host: (id: string) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const before = new Set((await okJson('machines', 'list', '--app', 'web')).map((m: { id: string }) => m.id));
    const p = sixpn(['machines', 'create', '--app', 'web', '--region', 'local', '--wait', '--json', ...extra], env);
    let id = '';
    for (let i = 0; i < 100 && !id; i++) {
      id = (await okJson('machines', 'list', '--app', 'web')).map((m: { id: string }) => m.id).find((x: string) => !before.has(x)) ?? '';
      if (!id) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(id, 'the machine was created');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.child.exitCode, null, 'still waiting before the host reports');
    await host(id);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  }

  it('machines create --wait returns once the host reports the machine attached', async () => {
    const r = await createWaiting([], (id) => report(id, { state: 'started' }));
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.equal(m.state, 'started');
    assert.ok(m.attached_at, 'attached_at is set');
    assert.doesNotMatch(r.stderr, /waiting/, 'no spinner when stderr is not a TTY');
  });

  it("machines create --wait fails with the host's reason", async () => {
    const r = await createWaiting([], (id) => report(id, { state: 'failed', reason: 'attach failed: no veth' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sixpn machines: machine [0-9a-f]{14} failed on host \d+: attach failed: no veth\n$/);
  });

  it('machines run --wait times out naming the silent host', async () => {
    const r = await cli('machines', 'run', '--app', 'web', '--region', 'local', '--wait', '--wait-timeout', '1s', '--', 'true');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not attached after 1 s: host \d+ has not reported it/);
  });

  it('a stop then start clears attached_at until the host reports again', async () => {
    const m = await okJson('machines', 'create', '--app', 'web', '--region', 'local');
    await report(m.id, { state: 'started' });
    assert.ok((await okJson('machines', 'show', m.id)).attached_at);
    await ok('machines', 'stop', m.id);
    const s = await okJson('machines', 'start', m.id);
    assert.equal(s.attached_at, null);
  });

  it('--token-file, SIXPN_TOKEN_FILE and a context with token_file', async () => {
    const tf = join(dir.path, 'admin.tok');
    writeFileSync(tf, `${admin}\n`, { mode: 0o600 });
    const noCtx = { ...env, SIXPN_CONFIG: join(dir.path, 'none.json') };
    assert.equal((await runCli(['orgs', 'list', '--api', api, '--token-file', tf], noCtx)).code, 0);
    assert.equal((await runCli(['orgs', 'list', '--api', api], { ...noCtx, SIXPN_TOKEN_FILE: tf })).code, 0);
    const missing = await runCli(['orgs', 'list', '--api', api, '--token-file', join(dir.path, 'nope')], noCtx);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--token-file .*nope: ENOENT/);
    await ok('context', 'add', 'byfile', '--api', api, '--token-file', tf, '--use');
    assert.equal(JSON.parse(readFileSync(config, 'utf8')).contexts.byfile.token_file, tf);
    assert.equal((await ok('orgs', 'list', '--json')).code, 0);
    await ok('context', 'use', 'local');
  });

  it('--ca and SIXPN_CA reach the client (an unusable CA file exits 2 naming it)', async () => {
    const r = await cli('orgs', 'list', '--api', 'https://127.0.0.1:9', '--token', 'x', '--ca', join(dir.path, 'no-ca.pem'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ca .*no-ca\.pem/);
    const notPem = join(dir.path, 'not.pem');
    writeFileSync(notPem, 'hello');
    const e = await runCli(['orgs', 'list', '--api', 'https://127.0.0.1:9', '--token', 'x'], { ...env, SIXPN_CA: notPem });
    assert.equal(e.code, 2);
    assert.match(e.stderr, /no PEM certificate/);
  });

  it('reads no config from the current directory', async () => {
    const cwd = join(dir.path, 'elsewhere');
    mkdirSync(join(cwd, 'data'), { recursive: true });
    writeFileSync(join(cwd, 'data', 'cli.json'), JSON.stringify({ api: 'http://127.0.0.1:9', token: 'planted' }));
    const child = spawn(process.execPath, [SIXPN_MAIN, 'orgs', 'list'], { cwd, env: { ...process.env, ...env, SIXPN_CONFIG: join(dir.path, 'none.json') } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 2);
    assert.match(err, /no API URL/);
  });

  it('up --api still works but warns', async () => {
    // The alias is parsed before anything starts: a bad value shows which flag it was read as.
    const r = await runCli(['up', '--data', join(dir.path, 'data2'), '--api', 'nonsense', '--no-agent'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--api is the old name of --listen/);
    assert.match(r.stderr, /--api/);
  });

  const bad: { args: string[]; code: number; msg: RegExp; usage?: string }[] = [
    { args: ['networks', 'create', 'x'], code: 2, msg: /--org is required/, usage: 'sixpn networks create NAME --org ORG' },
    { args: ['networks', 'create', '--org', 'personal'], code: 2, msg: /missing argument/, usage: 'sixpn networks create NAME' },
    { args: ['networks', 'list', '--org', 'personal', '--bogus'], code: 2, msg: /Unknown option '--bogus'/, usage: 'sixpn networks list' },
    { args: ['hosts', 'show'], code: 2, msg: /missing argument/, usage: 'sixpn hosts show ID' },
    { args: ['hosts', 'show', 'abc'], code: 2, msg: /must be a number/ },
    { args: ['hosts', 'show', '1', '--nope'], code: 2, msg: /Unknown option/, usage: 'sixpn hosts show ID' },
    { args: ['hosts', 'show', '424242'], code: 1, msg: /not found/ },
    { args: ['machines', 'show'], code: 2, msg: /missing argument/, usage: 'sixpn machines show ID' },
    { args: ['machines', 'metadata'], code: 2, msg: /missing machines metadata command: get, set, unset/ },
    { args: ['machines', 'metadata', 'set', '00000000000001', 'k'], code: 2, msg: /missing argument/, usage: 'sixpn machines metadata set ID KEY VALUE' },
    { args: ['machines', 'metadata', 'unset'], code: 2, msg: /missing argument/, usage: 'sixpn machines metadata unset ID KEY' },
    { args: ['machines', 'metadata', 'get', 'xyz'], code: 2, msg: /14 hex/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'local', '--wait', '--stopped'], code: 2, msg: /not with --stopped/ },
    {
      args: ['machines', 'create', '--app', 'web', '--region', 'local', '--wait', '--wait-timeout', 'soon'],
      code: 2,
      msg: /--wait-timeout must be a duration/,
    },
    { args: ['context', 'use'], code: 2, msg: /missing argument/, usage: 'sixpn context use NAME' },
    { args: ['context', 'use', 'nosuch'], code: 2, msg: /no context "nosuch"/ },
    { args: ['context', 'add', 'x'], code: 2, msg: /--api is required/, usage: 'sixpn context add NAME --api URL' },
    { args: ['context', 'add', 'x', '--api', 'http://h:1'], code: 2, msg: /--token or --token-file is required/ },
    { args: ['context', 'add', 'x', '--api', 'ftp://h'], code: 2, msg: /--api must be an http/ },
    { args: ['context', 'list', '--bogus'], code: 2, msg: /Unknown option/, usage: 'sixpn context list' },
  ];
  for (const b of bad) {
    it(`exits ${b.code} for: ${b.args.join(' ')}`, async () => {
      const r = await cli(...b.args);
      assert.equal(r.code, b.code, r.stderr);
      assert.match(r.stderr.split('\n')[0]!, b.msg);
      if (b.usage) assert.match(r.stderr, new RegExp(`usage: ${b.usage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
  }

  for (const args of [
    ['networks', 'list', '--org', 'personal'],
    ['hosts', 'show', '1'],
    ['machines', 'metadata', 'get', '00000000000001'],
    ['context', 'list'],
  ]) {
    if (args[0] === 'context') continue; // local only: no coordinator involved
    it(`names the unreachable coordinator and the refused token: ${args.join(' ')}`, async () => {
      const down = await cli(...args, '--api', 'http://127.0.0.1:47', '--token', 'x');
      assert.equal(down.code, 1);
      assert.match(down.stderr, /^sixpn \w+: cannot reach the API at http:\/\/127\.0\.0\.1:47: ECONNREFUSED\n$/);
      const refused = await cli(...args, '--api', api, '--token', 'sixpn_admin_wrong');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^sixpn \w+: .*token.*\n$/);
    });
  }
});
