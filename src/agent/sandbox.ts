// The sandbox a `machines run` command runs in (netns driver). Debian's
// bubblewrap builds it; this module only says what goes in.
//
// The chain, as the agent spawns it (the driver adds `ip netns exec NS`):
//   ip netns exec NS            root: the machine's netns; a private mount ns whose
//                               /etc/{resolv.conf,hosts,gai.conf} are the machine's
//   sh -c 'mount --bind WORK /run; exec …'
//                               root stages the work dir at /run, so the unprivileged
//                               bwrap can reach it whatever the modes of its parents
//   setpriv --reuid N …         the machine's own uid/gid, no groups, no caps, no_new_privs
//   bwrap --unshare-user …      user, mount, PID, IPC, UTS (and cgroup) namespaces; the
//                               host read-only; private /tmp and /run; the agent's and
//                               coordinator's dirs and /etc/netns hidden; WORK writable
//   CMD
// No --die-with-parent: a machine outlives an agent restart, as before.
import { execa } from 'execa';
import { chmodSync, closeSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { SANDBOX_UID_BASE, SandboxUids } from './sandbox-uids.js';
import type { StateDir } from './statedir.js';

/** Always hidden, whether or not this host runs a coordinator there. */
const DEFAULT_HIDE = ['/var/lib/sixpn'];
/** Private and writable (tmpfs), every machine its own. */
const PRIVATE = ['/tmp', '/run'];
/** Where root stages the work dir for bwrap (then hidden by the private /run). */
const STAGE = '/run';

export interface SandboxOptions {
  state: StateDir;
  log: Logger;
  /** more host paths the command must not see (a tmpfs over each) */
  hide?: string[];
  bwrap?: string;
  setpriv?: string;
}

/** A machine's sandbox identity: its uid (= gid) and work dir. */
export interface SandboxBox {
  uid: number;
  workDir: string;
}

/** What the mask plan needs to know of a host path (injected by unit tests). */
export interface PathFacts {
  /** the path with symlinks resolved, or null when it does not exist */
  realpath(p: string): string | null;
  isDir(p: string): boolean;
  /** others (an unrelated uid) may look up names in it */
  searchable(p: string): boolean;
}

export const hostFacts: PathFacts = {
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return null;
    }
  },
  isDir: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  searchable: (p) => {
    try {
      return (statSync(p).mode & 0o001) !== 0;
    } catch {
      return false;
    }
  },
};

/** The outermost proper ancestor of `real` that others cannot search, if any. */
export function blockedAncestor(real: string, facts: PathFacts): string | null {
  const parts = real.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts.slice(0, -1)) {
    cur += `/${part}`;
    if (!facts.searchable(cur)) return cur;
  }
  return null;
}

/**
 * The directories to cover with a tmpfs, outermost only. `hide`: paths the
 * command must not see. `reach`: paths bwrap must create mount points under
 * (the work dir): an ancestor the machine's uid cannot search is covered, as
 * it could not see below it anyway, and bwrap then makes the path in the tmpfs.
 */
export function maskPlan(hide: readonly string[], reach: readonly string[], facts: PathFacts = hostFacts): string[] {
  const masks = new Set(PRIVATE);
  for (const p of hide) {
    const real = facts.realpath(p);
    if (real && facts.isDir(real)) masks.add(blockedAncestor(real, facts) ?? real);
  }
  for (const p of reach) {
    const real = facts.realpath(p);
    const b = real ? blockedAncestor(real, facts) : null;
    if (b) masks.add(b);
  }
  const all = [...masks].filter((m) => m !== '/').sort();
  return all.filter((m) => !all.some((o) => o !== m && m.startsWith(`${o}/`)));
}

/** bwrap's options for one machine (everything before `--`). */
export function bwrapOptions(machineId: string, workDir: string, masks: readonly string[]): string[] {
  const out = [
    '--unshare-user',
    '--disable-userns',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    machineId,
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
  ];
  for (const m of masks) out.push('--tmpfs', m);
  out.push('--bind', STAGE, workDir);
  // Masks stay empty and read-only; the work dir bind under one is its own mount, still writable.
  for (const m of masks) if (!PRIVATE.includes(m)) out.push('--remount-ro', m);
  out.push('--chdir', workDir);
  return out;
}

/** setpriv's options: the machine's uid and gid, no groups, no capabilities, no_new_privs. */
export function setprivOptions(uid: number): string[] {
  return [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all'];
}

/** Root's step inside `ip netns exec`: stage the work dir, then drop to the sandbox. */
export const STAGE_SCRIPT = `mount -n --bind -- "$1" ${STAGE} && shift && exec "$@"`;

/** The last line a failed setup leaves in the machine's log (bwrap, setpriv, mount), or null. */
export function setupFailure(logFile: string): string | null {
  let text = '';
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = statSync(logFile).size;
      const buf = Buffer.alloc(Math.min(size, 4096));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const last =
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? '';
  return /^(bwrap|setpriv|mount): /.test(last) ? last.slice(0, 500) : null;
}

/** chown a tree to uid:uid without following symlinks (a work dir whose uid changed). */
function chownTree(dir: string, uid: number): void {
  const todo = [dir];
  while (todo.length) {
    const d = todo.pop()!;
    lchownSync(d, uid, uid);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) todo.push(p);
      else lchownSync(p, uid, uid);
    }
  }
}

export class Sandbox {
  private readonly uids: SandboxUids;
  private readonly bwrap: string;
  private readonly setpriv: string;
  private ready = false;
  /** the probe in flight (attaches run several at once) */
  private probing: Promise<string | null> | null = null;

  constructor(private readonly o: SandboxOptions) {
    this.uids = new SandboxUids(o.state, o.log);
    this.bwrap = o.bwrap ?? 'bwrap';
    this.setpriv = o.setpriv ?? 'setpriv';
  }

  get workRoot(): string {
    return this.o.state.path('work');
  }

  /**
   * Null when a sandbox can be made here, else why not. Tried once with a
   * throwaway uid; a success is remembered, a failure is tried again next time
   * (the operator may install bubblewrap meanwhile).
   */
  async unavailable(): Promise<string | null> {
    if (this.ready) return null;
    this.probing ??= this.probe().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  private async probe(): Promise<string | null> {
    const argv = [
      ...setprivOptions(SANDBOX_UID_BASE),
      '--',
      this.bwrap,
      '--unshare-user',
      '--disable-userns',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--ro-bind',
      '/',
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
      '--',
      'true',
    ];
    const r = await execa(this.setpriv, argv, { reject: false, timeout: 10_000, stdin: 'ignore' });
    if (r.exitCode === 0) {
      this.ready = true;
      return null;
    }
    const why = String(r.stderr || r.stdout || r.shortMessage || `exit ${r.exitCode}`)
      .trim()
      .split('\n')
      .pop()!
      .slice(0, 500);
    const hint = /No such file|ENOENT|not found/.test(why) ? " (install Debian's bubblewrap: apt-get install bubblewrap)" : '';
    return `${why}${hint}`;
  }

  /** The machine's uid and work dir, made (0700, its own) if missing. */
  prepare(machineId: string): SandboxBox {
    if (!/^[A-Za-z0-9_-]+$/.test(machineId)) throw new Error(`machine id ${JSON.stringify(machineId)} cannot name a work dir`);
    const uid = this.uids.uidOf(machineId);
    // Only root goes in here: the sandbox gets its own dir through the staging mount.
    mkdirSync(this.workRoot, { recursive: true, mode: 0o700 });
    chmodSync(this.workRoot, 0o700);
    const workDir = join(this.workRoot, machineId);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    const st = lstatSync(workDir);
    if (!st.isDirectory()) throw new Error(`${workDir} is not a directory`);
    if (st.uid !== uid || st.gid !== uid) chownTree(workDir, uid);
    chmodSync(workDir, 0o700);
    return { uid, workDir };
  }

  /** argv that runs `command` sandboxed; the driver puts it inside the machine's netns. */
  argv(machineId: string, box: SandboxBox, command: readonly string[], driverHidden: readonly string[] = []): string[] {
    const hide = [this.o.state.dir, ...DEFAULT_HIDE, ...driverHidden, ...(this.o.hide ?? [])];
    const masks = maskPlan(hide, [box.workDir]);
    return [
      'sh',
      '-c',
      STAGE_SCRIPT,
      'sixpn-sandbox',
      box.workDir,
      this.setpriv,
      ...setprivOptions(box.uid),
      '--',
      this.bwrap,
      ...bwrapOptions(machineId, box.workDir, masks),
      '--',
      ...command,
    ];
  }
}
