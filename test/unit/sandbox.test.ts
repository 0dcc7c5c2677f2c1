import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bwrapOptions, maskPlan, setprivOptions, setupFailure, type PathFacts } from '../../src/agent/sandbox.js';
import { hashedUid, SANDBOX_UID_BASE, SANDBOX_UID_SPAN, SandboxUids } from '../../src/agent/sandbox-uids.js';
import { StateDir } from '../../src/agent/statedir.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../../testkit/tmp.js';

/** A fake host: these directories exist; `closed` ones others cannot search. */
function facts(dirs: string[], closed: string[] = [], links: Record<string, string> = {}): PathFacts {
  const all = new Set(['/', ...dirs]);
  return {
    realpath: (p) => {
      const r = links[p] ?? p;
      return all.has(r) ? r : null;
    },
    isDir: (p) => all.has(p),
    searchable: (p) => !closed.includes(p),
  };
}

describe('sandbox: mask plan', () => {
  it('always a private /tmp and /run; hidden dirs get a tmpfs, missing ones are skipped', () => {
    const f = facts(['/var', '/var/lib', '/var/lib/sixpn', '/etc', '/etc/netns']);
    assert.deepEqual(maskPlan(['/var/lib/sixpn', '/etc/netns', '/srv/nope'], [], f), ['/etc/netns', '/run', '/tmp', '/var/lib/sixpn']);
  });
  it('outermost only: what lies under /run or /tmp (or another mask) is already hidden', () => {
    const f = facts(['/run', '/run/netns', '/tmp', '/tmp/lab', '/tmp/lab/agent', '/var', '/var/lib', '/var/lib/sixpn', '/var/lib/sixpn/agent'], [], {
      '/var/run/netns': '/run/netns',
    });
    assert.deepEqual(maskPlan(['/var/run/netns', '/tmp/lab/agent', '/var/lib/sixpn/agent', '/var/lib/sixpn'], [], f), ['/run', '/tmp', '/var/lib/sixpn']);
  });
  it('a dir others cannot search is covered where it blocks: the hidden dir below it could not be reached to mount on', () => {
    const f = facts(['/root', '/root/sixpn', '/root/sixpn/data', '/root/sixpn/data/agent'], ['/root', '/root/sixpn/data']);
    assert.deepEqual(maskPlan(['/root/sixpn/data/agent'], [], f), ['/root', '/run', '/tmp']);
  });
  it('the work dir: its outermost closed ancestor is covered, so bwrap can make the mount point; open ancestors need nothing', () => {
    const closed = facts(['/srv', '/srv/s', '/srv/s/work', '/srv/s/work/m1'], ['/srv/s/work']);
    assert.deepEqual(maskPlan([], ['/srv/s/work/m1'], closed), ['/run', '/srv/s/work', '/tmp']);
    const open = facts(['/srv', '/srv/s', '/srv/s/work', '/srv/s/work/m1']);
    assert.deepEqual(maskPlan([], ['/srv/s/work/m1'], open), ['/run', '/tmp']);
  });
  it('never the root itself', () => {
    assert.ok(!maskPlan(['/'], [], facts([])).includes('/'));
  });
});

describe('sandbox: bwrap and setpriv options', () => {
  const o = bwrapOptions('0bd878713d78e4', '/var/lib/sixpn/agent/work/0bd878713d78e4', ['/etc/netns', '/run', '/tmp', '/var/lib/sixpn']);
  const at = (flag: string, arg?: string): number => o.findIndex((x, i) => x === flag && (arg === undefined || o[i + 1] === arg));
  it('every namespace but the network one (joined before), no nested user namespaces', () => {
    for (const f of ['--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--unshare-uts']) assert.ok(o.includes(f), f);
    assert.ok(!o.includes('--unshare-net') && !o.includes('--share-net') && !o.includes('--unshare-all'));
    assert.ok(!o.includes('--die-with-parent'), 'a machine must outlive an agent restart');
  });
  it('the host read-only, then fresh /dev and /proc, the masks, the work dir writable, masks but /tmp and /run read-only', () => {
    assert.deepEqual(o.slice(at('--ro-bind'), at('--ro-bind') + 3), ['--ro-bind', '/', '/']);
    assert.ok(at('--proc', '/proc') > at('--ro-bind') && at('--dev', '/dev') > at('--ro-bind'));
    for (const m of ['/etc/netns', '/run', '/tmp', '/var/lib/sixpn']) assert.ok(at('--tmpfs', m) > at('--ro-bind'), m);
    const bind = at('--bind', '/run');
    assert.equal(o[bind + 2], '/var/lib/sixpn/agent/work/0bd878713d78e4');
    assert.ok(bind > at('--tmpfs', '/var/lib/sixpn'), 'the work dir is bound after the masks it may lie under');
    assert.ok(at('--remount-ro', '/var/lib/sixpn') > bind && at('--remount-ro', '/etc/netns') > bind);
    assert.equal(at('--remount-ro', '/tmp'), -1);
    assert.equal(at('--remount-ro', '/run'), -1);
    assert.deepEqual(o.slice(-2), ['--chdir', '/var/lib/sixpn/agent/work/0bd878713d78e4']);
    assert.equal(o[at('--hostname') + 1], '0bd878713d78e4');
  });
  it('setpriv: the uid and gid, no groups, no capabilities, no_new_privs', () => {
    assert.deepEqual(setprivOptions(1234567890), [
      '--reuid=1234567890',
      '--regid=1234567890',
      '--clear-groups',
      '--no-new-privs',
      '--inh-caps=-all',
      '--bounding-set=-all',
    ]);
  });
});

describe('sandbox: uids and setup errors', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.remove());

  it("a machine's uid is in 2^30..2^31-1, stable across restarts (saved), distinct per machine", () => {
    const state = new StateDir(join(t.path, 's'));
    const u = new SandboxUids(state, silentLogger);
    const a = u.uidOf('0bd878713d78e4');
    assert.ok(a >= SANDBOX_UID_BASE && a < SANDBOX_UID_BASE + SANDBOX_UID_SPAN && a < 2 ** 31);
    assert.equal(a, hashedUid('0bd878713d78e4'));
    assert.notEqual(u.uidOf('5ef6a6a88a80dd'), a);
    assert.equal(new SandboxUids(state, silentLogger).uidOf('0bd878713d78e4'), a);
  });
  it('a hash collision moves to the next free uid', () => {
    const state = new StateDir(join(t.path, 's'));
    state.saveText('sandbox-uids.json', JSON.stringify({ other: hashedUid('m1') }));
    assert.equal(new SandboxUids(state, silentLogger).uidOf('m1'), hashedUid('m1') + 1);
  });
  it('a corrupt table is set aside and started over', () => {
    const state = new StateDir(join(t.path, 's'));
    state.saveText('sandbox-uids.json', '{"m1": 12');
    assert.equal(new SandboxUids(state, silentLogger).uidOf('m1'), hashedUid('m1'));
    assert.ok(existsSync(state.path('sandbox-uids.json.corrupt')));
  });
  it("setup failures are told from the command's own output", () => {
    const f = join(t.path, 'm.log');
    writeFileSync(f, "hello\nbwrap: Can't mount tmpfs on /newroot/x: Permission denied\n");
    assert.equal(setupFailure(f), "bwrap: Can't mount tmpfs on /newroot/x: Permission denied");
    writeFileSync(f, "bwrap: earlier\nthe command's last words\n");
    assert.equal(setupFailure(f), null);
    assert.equal(setupFailure(join(t.path, 'missing.log')), null);
  });
});
