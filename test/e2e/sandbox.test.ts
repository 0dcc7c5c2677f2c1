// End to end, adversarial: a `machines run` command is what an attacker
// holding one org's token controls. It must run as an unprivileged uid in its
// own namespaces, see the host read-only and nothing of the agent, the
// coordinator, other machines or other processes; keep a private /tmp and a
// persistent work dir; and still serve the mesh (the README's tour). A host
// with `--no-commands`, or without a working sandbox, refuses commands.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../../src/model/types.js';
import { MeshLab } from '../../lab/meshlab.js';
import { e2eUnavailable, namespacesLike } from '../../testkit/mesh.js';

/** What the probe does, with a few more doors tried. `key=value` lines. */
const PROBE = (o: { token: string; stateDir: string; secret: string; pub: string; agentPid: number }): string => `
echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
cat ${o.token} >/dev/null 2>&1 && echo "token=read" || echo "token=denied"
ls /run/netns >/dev/null 2>&1 && echo "netns=listed" || echo "netns=hidden"
touch /etc/x 2>/dev/null && echo "etc=written" || echo "etc=readonly"
touch /usr/x 2>/dev/null && echo "usr=written" || echo "usr=readonly"
for f in ${o.stateDir}/identity.json ${o.stateDir}/private.key ${o.secret}; do cat "$f" >/dev/null 2>&1 && echo "read=$f" || echo "noread=$f"; done
echo "public=$(cat ${o.pub})"
echo "statedir=$(ls -A ${o.stateDir} | tr '\\n' ' ')"
echo "etcnetns=$(ls -A /etc/netns 2>/dev/null | wc -l)"
echo "procs=$(ls /proc | grep -c '^[0-9]')"
echo "pids=$(ps -e -o pid= | tr -d ' ' | tr '\\n' ' ')"
kill -0 ${o.agentPid} 2>/dev/null && echo "agent=visible" || echo "agent=invisible"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status | tr -d '\\t' | sed 's/:/=/'
ip link set eth0 down 2>/dev/null && echo "link=changed" || echo "link=denied"
unshare -U true 2>/dev/null && echo "userns=made" || echo "userns=denied"
echo "hostname=$(hostname)"
echo "work=$SIXPN_WORK_DIR pwd=$(pwd) home=$HOME"
touch "$SIXPN_WORK_DIR/w" && echo "workdir=writable"
echo probe-done
`;

describe('sandboxed machine commands (e2e, adversarial)', function () {
  // Generous: on a loaded box an agent takes tens of seconds to boot (the first machine waits for it).
  this.timeout(120_000);
  let w: MeshLab;
  /** a host dir outside every mask: a root-only file and a world-readable one */
  let fixture: string;
  let fakeBin: string;

  const machine = async (id: string): Promise<Machine> => (await w.api<{ machine: Machine }>('GET', `/v1/machines/${id}`)).machine;
  const settled = (id: string, want: Machine['state']) =>
    w.until(
      `machine ${id} ${want}`,
      async () => {
        const m = await machine(id);
        return m.state === want ? m : false;
      },
      90_000,
      100,
    );
  /** The machine's output lines, as the agent logged them. */
  const output = (region: string, id: string): string[] =>
    readFileSync(w.agent(region).logFile, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          const j = JSON.parse(l) as { machine?: string; stream?: string; msg?: string };
          return j.machine === id && j.stream === 'output' ? [j.msg ?? ''] : [];
        } catch {
          return [];
        }
      });
  const facts = (region: string, id: string): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const line of output(region, id)) {
      const i = line.indexOf('=');
      if (i > 0) out.set(line.slice(0, i), [...(out.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
    }
    return out;
  };
  const one = (f: Map<string, string[]>, k: string): string => {
    const v = f.get(k);
    assert.ok(v && v.length === 1, `expected one ${k}=… line, got ${JSON.stringify(v)}`);
    return v[0]!;
  };

  before(async function () {
    const why = e2eUnavailable();
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    this.timeout(120_000);
    w = await MeshLab.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB) });
    fixture = `/var/tmp/sixpn-sbx-${w.id}`;
    mkdirSync(fixture, { mode: 0o755 });
    chmodSync(fixture, 0o755);
    writeFileSync(join(fixture, 'secret'), 'root only\n', { mode: 0o600 });
    writeFileSync(join(fixture, 'public'), 'everyone\n', { mode: 0o644 });
    chmodSync(join(fixture, 'public'), 0o644);
    // A host whose bubblewrap cannot make namespaces.
    fakeBin = join(fixture, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'bwrap'), '#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n', { mode: 0o755 });
    await Promise.all([
      w.addHost('ams'),
      w.addHost('iad'),
      w.addHost('nrt', { args: ['--no-commands'] }),
      w.addHost('fra', { env: { PATH: `${fakeBin}:${process.env.PATH ?? '/usr/bin:/bin'}` } }),
    ]);
    await w.api('POST', '/v1/orgs', { name: 'acme' });
    for (const app of ['probe', 'web', 'cli', 'db']) await w.api('POST', '/v1/apps', { name: app, org: 'acme' });
  });

  after(async function () {
    this.timeout(60_000);
    rmSync(fixture, { recursive: true, force: true });
    if (!w) return;
    await w.destroy();
    assert.deepEqual(namespacesLike(w.id), []);
    assert.ok(!existsSync('/etc/x') && !existsSync('/usr/x'));
  });

  it("the issue's probe: an unprivileged uid, no admin token, no /run/netns, a read-only /etc", async () => {
    const token = join(w.dir, 'coordinator', 'admin.token');
    const m = await w.createMachine('probe', 'ams', { command: ['sh', '-c', `id -u; cat ${token}; ls /run/netns; touch /etc/x`] });
    const done = await settled(m.id, 'stopped');
    const lines = output('ams', m.id);
    assert.ok(Number(lines[0]) >= 2 ** 30, `uid ${lines[0]}`);
    assert.ok(!lines.includes(w.adminToken), 'the admin token leaked');
    assert.ok(
      lines.some((l) => /admin\.token: No such file or directory/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /\/run\/netns.*No such file or directory/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => l.startsWith('sixpn-')), 'a namespace name was listed');
    assert.ok(
      lines.some((l) => /\/etc\/x.*Read-only file system/.test(l)),
      lines.join('\n'),
    );
    assert.equal(done.reason, 'command exited with 1');
    assert.ok(!existsSync('/etc/x'));
  });

  it('no capabilities, no_new_privs, no view of the agent, other machines or host processes; the host readable only as any user', async () => {
    const ams = w.agent('ams');
    const m = await w.createMachine('probe', 'ams', {
      command: [
        'sh',
        '-c',
        PROBE({
          token: join(w.dir, 'coordinator', 'admin.token'),
          stateDir: ams.stateDir,
          secret: join(fixture, 'secret'),
          pub: join(fixture, 'public'),
          agentPid: ams.proc!.pid!,
        }),
      ],
    });
    await settled(m.id, 'stopped');
    const f = facts('ams', m.id);
    assert.ok(output('ams', m.id).includes('probe-done'), output('ams', m.id).join('\n'));
    const uid = Number(one(f, 'uid').split(' ')[0]);
    assert.ok(uid >= 2 ** 30 && uid < 2 ** 31);
    assert.equal(one(f, 'uid'), `${uid} gid=${uid} groups=${uid}`);
    assert.equal(one(f, 'token'), 'denied');
    assert.equal(one(f, 'netns'), 'hidden');
    assert.equal(one(f, 'etc'), 'readonly');
    assert.equal(one(f, 'usr'), 'readonly');
    assert.deepEqual(f.get('read'), undefined, `read what it must not: ${f.get('read')}`);
    assert.deepEqual(f.get('noread')!.sort(), [join(ams.stateDir, 'identity.json'), join(ams.stateDir, 'private.key'), join(fixture, 'secret')].sort());
    assert.equal(one(f, 'public'), 'everyone', 'the host filesystem is visible (read-only)');
    // Nothing of the agent's state: only the mount point of its own work dir.
    assert.equal(one(f, 'statedir').trim(), 'work');
    assert.equal(one(f, 'etcnetns'), '0', "other machines' /etc/netns files are visible");
    assert.ok(Number(one(f, 'procs')) <= 6, `sees ${one(f, 'procs')} processes`);
    const pids = one(f, 'pids').trim().split(' ');
    assert.ok(pids.includes('1') && pids.length <= 6, `sees pids ${pids.join(' ')}`);
    assert.equal(one(f, 'agent'), 'invisible');
    for (const c of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(one(f, c), '0000000000000000', c);
    assert.equal(one(f, 'NoNewPrivs'), '1');
    assert.equal(one(f, 'link'), 'denied');
    assert.equal(one(f, 'userns'), 'denied');
    assert.equal(one(f, 'hostname'), m.id);
    const work = join(ams.stateDir, 'work', m.id);
    assert.equal(one(f, 'work'), `${work} pwd=${work} home=${work}`);
    assert.equal(one(f, 'workdir'), 'writable');
    const st = statSync(work);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [uid, uid, 0o700]);
    assert.equal(statSync(join(work, 'w')).uid, uid);
  });

  it('the work dir persists across restarts of the command; /tmp is private; each machine its own uid and files', async () => {
    const ams = w.agent('ams');
    const mark = `sixpn-sbx-${w.id}`;
    const db = await w.createMachine('db', 'ams', {
      command: [
        'sh',
        '-c',
        `echo run >> "$SIXPN_WORK_DIR/runs"; echo "runs=$(wc -l < "$SIXPN_WORK_DIR/runs")"; echo "uid=$(id -u)"; echo hush > /tmp/${mark}; echo "tmp=$(cat /tmp/${mark})"; sleep 3`,
      ],
    });
    await w.until('db ran', async () => facts('ams', db.id).has('tmp'));
    // Meanwhile, a neighbour on the same host.
    const nb = await w.createMachine('probe', 'ams', {
      command: [
        'sh',
        '-c',
        `echo "uid=$(id -u)"; echo "tmp=$(ls -A /tmp | tr '\\n' ' ')"; test -e /tmp/${mark} && echo "mark=seen" || echo "mark=absent"; cat ${join(ams.stateDir, 'work', db.id, 'runs')} 2>/dev/null && echo "neighbour=read" || echo "neighbour=denied"; touch /tmp/mine && echo "tmpwrite=ok"`,
      ],
    });
    await settled(nb.id, 'stopped');
    const n = facts('ams', nb.id);
    // Its /tmp holds only the mount point bwrap made for its own work dir (the lab's state dirs are under /tmp).
    assert.equal(one(n, 'tmp').trim(), w.dir.split('/')[2], `a neighbour's /tmp is visible: ${one(n, 'tmp')}`);
    assert.equal(one(n, 'mark'), 'absent');
    assert.equal(one(n, 'neighbour'), 'denied');
    assert.equal(one(n, 'tmpwrite'), 'ok');
    assert.ok(!existsSync(`/tmp/${mark}`), "the machine wrote the host's /tmp");
    await settled(db.id, 'stopped');
    const first = facts('ams', db.id);
    assert.deepEqual(first.get('runs'), ['1']);
    assert.equal(one(first, 'tmp'), 'hush');
    assert.notEqual(one(n, 'uid'), one(first, 'uid'), 'two machines share a uid');
    // Started again: the same work dir (and uid), the data still there.
    await w.api('POST', `/v1/machines/${db.id}/start`);
    await w.until('second run', async () => (facts('ams', db.id).get('tmp') ?? []).length === 2);
    const again = facts('ams', db.id);
    assert.deepEqual(again.get('runs'), ['1', '2']);
    assert.deepEqual(again.get('uid'), [one(first, 'uid'), one(first, 'uid')]);
    assert.equal(readFileSync(join(ams.stateDir, 'work', db.id, 'runs'), 'utf8'), 'run\nrun\n');
    await settled(db.id, 'stopped');
  });

  it('the README tour: a sandboxed `python3 -m http.server 8080 --bind ::` serves the mesh; a low port and ping work unprivileged', async () => {
    const web = await w.createMachine('web', 'ams', { command: ['python3', '-m', 'http.server', '8080', '--bind', '::'] });
    const low = await w.createMachine('web', 'ams', { command: ['python3', '-m', 'http.server', '80', '--bind', '::'] });
    await Promise.all([w.attached(web), w.attached(low)]);
    const client = await w.createMachine('cli', 'iad', {
      command: [
        'sh',
        '-c',
        [
          `for i in $(seq 50); do curl -sf -o /dev/null -w "web=%{http_code}\\n" --max-time 2 http://${web.id}.vm.web.internal:8080/ && break; sleep 0.2; done`,
          `for i in $(seq 50); do curl -sf -o /dev/null -w "low=%{http_code}\\n" --max-time 2 http://[${low.address}]:80/ && break; sleep 0.2; done`,
          'ping -6 -c 1 -W 2 web.internal >/dev/null 2>&1 && echo ping=ok || echo ping=failed',
        ].join('\n'),
      ],
    });
    await settled(client.id, 'stopped');
    const f = facts('iad', client.id);
    // curl's loop retries while the server is still starting: those tries print 000 (no connection).
    const served = (k: string): string => {
      const v = f.get(k) ?? [];
      assert.ok(v.length > 0 && v.slice(0, -1).every((c) => c === '000'), `${k}: ${JSON.stringify(v)}\n${output('iad', client.id).join('\n')}`);
      return v.at(-1)!;
    };
    assert.equal(served('web'), '200', output('iad', client.id).join('\n'));
    assert.equal(served('low'), '200', output('iad', client.id).join('\n'));
    assert.equal(one(f, 'ping'), 'ok');
    assert.equal((await machine(web.id)).state, 'started');
    await w.api('POST', `/v1/machines/${web.id}/stop`);
    await w.api('POST', `/v1/machines/${low.id}/stop`);
  });

  it("a command the sandbox cannot start fails with bwrap's reason", async () => {
    const m = await w.createMachine('probe', 'ams', { command: ['/nonexistent/program'] });
    const got = await settled(m.id, 'failed');
    assert.match(got.reason ?? '', /could not start in its sandbox: bwrap: execvp \/nonexistent\/program/);
  });

  it('agent --no-commands: a command machine fails with a clear reason; plain machines still run there', async () => {
    const cmd = await w.createMachine('probe', 'nrt', { command: ['sh', '-c', `touch ${fixture}/ran-nrt`] });
    const got = await settled(cmd.id, 'failed');
    assert.match(got.reason ?? '', /refuses commands \(its agent runs with --no-commands\)/);
    assert.ok(!existsSync(join(fixture, 'ran-nrt')));
    assert.ok(!existsSync(`/var/run/netns/sixpn-${cmd.id}`), 'a refused machine still got a namespace');
    const plain = await w.createMachine('db', 'nrt');
    await w.attached(plain);
    assert.equal((await machine(plain.id)).state, 'started');
  });

  it('no working sandbox on a host: the command is refused, never run unsandboxed', async () => {
    const m = await w.createMachine('probe', 'fra', { command: ['sh', '-c', `touch ${fixture}/ran-fra`] });
    const got = await settled(m.id, 'failed');
    assert.match(got.reason ?? '', /the command was not run: no sandbox on this host: bwrap: No permissions to creating new namespace/);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!existsSync(join(fixture, 'ran-fra')), 'the command ran without its sandbox');
  });
});
