// Realizes the host's machines: attach what should run, detach what should
// not, repair what broke behind our back, run `machines run` commands
// (sandboxed, see sandbox.ts) and report their end. Owns only the attachments
// it recorded in the state dir, so several agents on one box never touch each
// other's namespaces.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import type { Logger } from '../log.js';
import { isAlive, LogTail, procStart } from './proc.js';
import type { StatusReporter } from './reporter.js';
import { Sandbox, setupFailure } from './sandbox.js';
import type { AttachmentRecord, StateDir } from './statedir.js';
import type { Attachment, AttachmentDriver } from './types.js';
import { machineEnv } from './types.js';

interface Live {
  rec: AttachmentRecord;
  a: Attachment;
  tail: LogTail | null;
  poll: NodeJS.Timeout | null;
  /** the machine's generation when its command ended */
  doneGen?: string;
}

export interface MachineManagerOptions {
  driver: AttachmentDriver;
  state: StateDir;
  reporter: StatusReporter;
  log: Logger;
  /** attaches in flight at once */
  concurrency?: number;
  /** run `machines run` commands (false: `agent --no-commands`, such machines fail); default true */
  commands?: boolean;
  /** more host paths a command's sandbox hides (`up`: the coordinator's data dir) */
  sandboxHide?: string[];
}

/** The reason a command machine gets on a host that refuses commands. */
export const NO_COMMANDS_REASON = 'this host refuses commands (its agent runs with --no-commands); create the machine without one or in another region';

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await f(items[i++]!);
    }),
  );
}

export class MachineManager {
  private readonly live = new Map<string, Live>();
  /** machine id → generation whose attach failed (not retried until it changes) */
  private readonly failed = new Map<string, string>();
  private readonly driver: AttachmentDriver;
  private readonly log: Logger;
  /** null: the driver runs no commands (hook) */
  private readonly sandbox: Sandbox | null;
  private stopped = false;
  /** reconcile, health checks and teardown run one at a time */
  private lock: Promise<unknown> = Promise.resolve();

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.lock.then(f, f);
    this.lock = p.catch(() => undefined);
    return p;
  }

  constructor(private readonly o: MachineManagerOptions) {
    this.driver = o.driver;
    this.log = o.log;
    this.sandbox = o.driver.commandArgv ? new Sandbox({ state: o.state, log: o.log, hide: o.sandboxHide }) : null;
  }

  /** Attachments recorded by a previous run; adopted on the first reconcile. */
  private adoptable = new Map<string, AttachmentRecord>();

  load(): void {
    for (const rec of this.o.state.loadAttachments()) this.adoptable.set(rec.machineId, rec);
  }

  attached(): string[] {
    return [...this.live.keys()];
  }

  private persist(): void {
    this.o.state.saveAttachments([...[...this.live.values()].map((l) => l.rec), ...this.adoptable.values()]);
  }

  reconcile(desired: readonly Attachment[]): Promise<void> {
    return this.serial(() => this.reconcileNow(desired));
  }

  private async reconcileNow(desired: readonly Attachment[]): Promise<void> {
    const want = new Map(desired.map((a) => [a.machineId, a]));
    // First pass after a restart: keep what is still wanted, untouched.
    for (const [id, rec] of this.adoptable) {
      this.adoptable.delete(id);
      const a = want.get(id);
      if (a && rec.driver === this.driver.name) this.adopt(rec, a);
      else await this.detachRecord(rec, a ? 'driver changed' : 'no longer wanted');
    }
    for (const [id, l] of [...this.live]) {
      const a = want.get(id);
      if (!a) await this.detach(l, 'no longer started');
      // Its command ended, then it was started again, both seen in one pass: run it again.
      else if (a.command && l.doneGen !== undefined && a.generation !== l.doneGen) await this.detach(l, 'started again');
    }
    for (const id of [...this.failed.keys()]) if (want.get(id)?.generation !== this.failed.get(id)) this.failed.delete(id);
    const todo = desired.filter((a) => !this.live.has(a.machineId) && !this.failed.has(a.machineId));
    await pool(todo, this.o.concurrency ?? 4, (a) => this.attach(a));
    for (const a of desired) {
      const l = this.live.get(a.machineId);
      if (l) l.a = a;
    }
    this.persist();
  }

  private adopt(rec: AttachmentRecord, a: Attachment): void {
    const l: Live = { rec, a, tail: null, poll: null };
    this.live.set(a.machineId, l);
    if (rec.pid !== null && !rec.commandDone) {
      if (isAlive(rec.pid, rec.pidStart)) this.watchAdopted(l);
      else this.commandEnded(l, 'command ended while the agent was down');
    }
    this.log.info({ machine: a.machineId, childPid: rec.pid }, 'adopted attachment');
  }

  /** Why this host will not run the machine's command, or null. */
  private async refusal(a: Attachment): Promise<string | null> {
    if (!a.command || !this.sandbox) return null;
    if (this.o.commands === false) return NO_COMMANDS_REASON;
    const why = await this.sandbox.unavailable();
    return why ? `the command was not run: no sandbox on this host: ${why}` : null;
  }

  private async attach(a: Attachment): Promise<void> {
    if (this.stopped) return;
    const log = this.log.child({ machine: a.machineId, app: a.app });
    const refused = await this.refusal(a);
    if (refused) {
      log.error({ reason: refused }, 'machine command refused');
      this.failed.set(a.machineId, a.generation);
      this.o.reporter.report(a.machineId, { state: 'failed', reason: refused });
      return;
    }
    try {
      await this.driver.attach(a);
    } catch (err) {
      const reason = `attach failed: ${(err as Error).message ?? String(err)}`.slice(0, 1000);
      log.error({ reason }, 'machine attach failed');
      await this.driver.detach(a).catch(() => undefined);
      this.failed.set(a.machineId, a.generation);
      this.o.reporter.report(a.machineId, { state: 'failed', reason });
      return;
    }
    const rec: AttachmentRecord = {
      machineId: a.machineId,
      driver: this.driver.name,
      hostIface: a.hostIface,
      nsName: a.nsName,
      generation: a.generation,
      pid: null,
      pidStart: null,
      commandDone: false,
    };
    const l: Live = { rec, a, tail: null, poll: null };
    this.live.set(a.machineId, l);
    log.info({ address: a.address, iface: a.hostIface, driver: this.driver.name }, 'machine attached');
    // The host's DNS had the machine before this reconcile began (same replica update): `--wait` may return.
    this.o.reporter.report(a.machineId, { state: 'started', reason: null });
    if (a.command && this.sandbox) this.startCommand(l, this.sandbox);
    this.persist();
  }

  private startCommand(l: Live, sandbox: Sandbox): void {
    const a = l.a;
    let box;
    try {
      box = sandbox.prepare(a.machineId);
    } catch (err) {
      this.commandEnded(l, `the command was not run: its work dir could not be made: ${(err as Error).message}`, 'failed');
      return;
    }
    const argv = this.driver.commandArgv!(a, sandbox.argv(a.machineId, box, a.command!, this.driver.hiddenPaths?.() ?? []));
    const file = this.o.state.machineLog(a.machineId);
    const out = openSync(file, 'a');
    // Where this run's output starts, taken before the command can write any.
    const from = fstatSync(out).size;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: box.workDir,
      LANG: process.env.LANG ?? 'C.UTF-8',
      // Output is a file, not a TTY: keep Python's lines live in the agent log.
      PYTHONUNBUFFERED: '1',
      ...machineEnv(a),
      SIXPN_WORK_DIR: box.workDir,
    };
    // Detached: its own process group, so neither Ctrl-C of the agent nor an
    // agent restart stops the machine. Output goes to a file we tail.
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out], env });
    closeSync(out);
    const log = this.log.child({ machine: a.machineId, app: a.app });
    l.tail = new LogTail(file, log, from);
    l.tail.start();
    child.once('error', (err) => {
      log.error({ err: String(err) }, 'command failed to start');
      this.commandEnded(l, `command failed to start: ${err.message}`);
    });
    if (child.pid) {
      l.rec.pid = child.pid;
      l.rec.pidStart = procStart(child.pid);
      log.info({ childPid: child.pid, argv: a.command, uid: box.uid, workDir: box.workDir }, 'command started');
      child.once('exit', (code, sig) => {
        // bwrap and setpriv exit 1 with their reason as the log's last line.
        const setup = code === 1 ? setupFailure(file) : null;
        if (setup) this.commandEnded(l, `the command could not start in its sandbox: ${setup}`, 'failed');
        else this.commandEnded(l, `command exited with ${code ?? sig}`);
      });
    }
    child.unref();
  }

  private watchAdopted(l: Live): void {
    l.tail = new LogTail(this.o.state.machineLog(l.a.machineId), this.log.child({ machine: l.a.machineId, app: l.a.app }), true);
    l.tail.start();
    l.poll = setInterval(() => {
      if (!isAlive(l.rec.pid!, l.rec.pidStart)) this.commandEnded(l, 'command exited');
    }, 500);
    l.poll.unref();
  }

  private commandEnded(l: Live, reason: string, state: 'stopped' | 'failed' = 'stopped'): void {
    if (l.rec.commandDone || this.live.get(l.a.machineId) !== l) return;
    if (l.poll) clearInterval(l.poll);
    l.poll = null;
    l.tail?.stop();
    l.tail = null;
    l.rec.commandDone = true;
    l.rec.pid = null;
    l.rec.pidStart = null;
    l.doneGen = l.a.generation;
    this.persist();
    if (this.stopped) return;
    this.log.info({ machine: l.a.machineId, reason, state }, `machine command ended; reporting ${state}`);
    this.o.reporter.report(l.a.machineId, { state, reason });
  }

  private async detach(l: Live, why: string): Promise<void> {
    this.live.delete(l.a.machineId);
    if (l.poll) clearInterval(l.poll);
    l.tail?.stop();
    l.rec.commandDone = true; // whatever ends now was asked for; no report
    await this.detachRecord(l.rec, why);
  }

  private async detachRecord(rec: AttachmentRecord, why: string): Promise<void> {
    if (rec.pid !== null && isAlive(rec.pid, rec.pidStart)) {
      try {
        process.kill(-rec.pid, 'SIGTERM');
      } catch {
        try {
          process.kill(rec.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
    }
    try {
      await this.driver.detach(rec);
      this.log.info({ machine: rec.machineId, why }, 'machine detached');
    } catch (err) {
      this.log.error({ machine: rec.machineId, err: String(err) }, 'machine detach failed');
    }
    this.o.reporter.forget(rec.machineId);
  }

  /** Check every live attachment; repair a broken one, or report it failed. */
  checkHealth(): Promise<void> {
    return this.serial(() => this.checkHealthNow());
  }

  private async checkHealthNow(): Promise<void> {
    // One host read for the round (a repair below touches only its own machine's links);
    // if it fails, each check reads for itself.
    const survey =
      this.live.size && this.driver.survey
        ? await this.driver.survey().catch((err: unknown) => {
            this.log.warn({ err: String(err) }, 'host survey failed; checking each attachment alone');
            return undefined;
          })
        : undefined;
    for (const l of [...this.live.values()]) {
      if (this.stopped) return;
      const problem = await this.driver.check(l.a, survey).catch((err: unknown) => `check failed: ${String(err)}`);
      if (!problem || this.live.get(l.a.machineId) !== l) continue;
      this.log.warn({ machine: l.a.machineId, problem }, 'attachment broken; repairing');
      await this.detach(l, `repair: ${problem}`);
      await this.attach(l.a);
    }
    this.persist();
  }

  /** Stop watching (commands keep running: a restart must not stop machines). */
  stop(): void {
    this.stopped = true;
    for (const l of this.live.values()) {
      if (l.poll) clearInterval(l.poll);
      l.tail?.stop();
    }
  }

  /** Detach everything this agent owns (explicit teardown only). */
  teardown(): Promise<void> {
    this.stopped = true;
    return this.serial(() => this.teardownNow());
  }

  private async teardownNow(): Promise<void> {
    for (const l of [...this.live.values()]) await this.detach(l, 'teardown');
    for (const rec of this.adoptable.values()) await this.detachRecord(rec, 'teardown');
    this.adoptable.clear();
    this.persist();
  }
}
