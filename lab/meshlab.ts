// A whole sixpn installation on one machine, for the end-to-end tests, the
// demo and the benchmarks: a Lab of namespaces, a coordinator process in the
// root namespace (on the lab bridge), and one `sixpn agent` process per host
// namespace — the real binaries, real wireguard-go, nftables and namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Host, Machine } from '../src/model/types.js';
import { parseDump, type WgDump } from '../src/wg/dump.js';
import { Lab, type LabHost } from './lab.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface LabAgent {
  region: string;
  host: LabHost;
  iface: string;
  stateDir: string;
  logFile: string;
  gateway: boolean;
  /** extra agent flags for this host */
  args: string[];
  /** extra environment for this host's agent */
  env: Record<string, string>;
  proc: ChildProcess | null;
  hostId: number | null;
}

export interface MeshLabOptions {
  /** keep the temp dir (logs) after destroy */
  keep?: boolean;
  logLevel?: string;
  /** extra agent flags */
  agentArgs?: string[];
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class MeshLab {
  readonly agents = new Map<string, LabAgent>();
  readonly machines = new Set<string>();
  coordinator: ChildProcess | null = null;
  adminToken = '';
  enrollToken = '';
  readonly url: string;
  private readonly port: number;

  private constructor(
    readonly lab: Lab,
    readonly dir: string,
    private readonly o: MeshLabOptions,
  ) {
    this.port = 20000 + Math.floor(Math.random() * 20000);
    this.url = `http://${lab.rootAddr}:${this.port}`;
  }

  static async start(o: MeshLabOptions = {}): Promise<MeshLab> {
    const lab = await Lab.create();
    const m = new MeshLab(lab, mkdtempSync(join(tmpdir(), `sixpn-lab-${lab.id}-`)), o);
    try {
      await m.startCoordinator();
      m.adminToken = readFileSync(join(m.dir, 'coordinator', 'admin.token'), 'utf8').trim();
      m.enrollToken = (await m.api<{ token: string }>('POST', '/v1/tokens', { scope: 'host-enroll' })).token;
    } catch (err) {
      await m.destroy();
      throw err;
    }
    return m;
  }

  get id(): string {
    return this.lab.id;
  }

  private logFd(name: string): number {
    return openSync(join(this.dir, `${name}.log`), 'a');
  }

  async startCoordinator(): Promise<void> {
    const fd = this.logFd('coordinator');
    this.coordinator = spawn(
      process.execPath,
      [MAIN, 'coordinator', '--data', join(this.dir, 'coordinator'), '--listen', `${this.lab.rootAddr}:${this.port}`, '--log-level', 'warn'],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    for (let i = 0; i < 300; i++) {
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        /* not yet */
      }
      if (this.coordinator.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`coordinator did not start (see ${join(this.dir, 'coordinator.log')})`);
  }

  /** SIGKILL: the coordinator vanishes mid-stream, as a crash would. */
  async killCoordinator(): Promise<void> {
    const p = this.coordinator;
    this.coordinator = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new ApiFailure(r.status, `${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A new host namespace in `region`, with its agent enrolled and running. */
  async addHost(
    region: string,
    opts: { gateway?: boolean; args?: string[]; env?: Record<string, string>; beforeAgent?: (host: LabHost) => Promise<void> } = {},
  ): Promise<LabAgent> {
    const host = await this.lab.addHost(region);
    // e.g. a firewall rule a test wants in place before the agent's first packet
    await opts.beforeAgent?.(host);
    const a: LabAgent = {
      region,
      host,
      iface: `w${this.lab.id}${region.slice(0, 4)}`,
      stateDir: join(this.dir, `agent-${region}`),
      logFile: join(this.dir, `agent-${region}.log`),
      gateway: opts.gateway ?? false,
      args: opts.args ?? [],
      env: opts.env ?? {},
      proc: null,
      hostId: null,
    };
    mkdirSync(a.stateDir, { recursive: true });
    this.agents.set(region, a);
    await this.startAgent(region);
    const idFile = join(a.stateDir, 'identity.json');
    // Generous: a loaded CI box can take seconds just to start node.
    for (let i = 0; i < 600 && !existsSync(idFile); i++) await sleep(50);
    if (!existsSync(idFile)) throw new Error(`agent ${region} did not enroll (see ${a.logFile})`);
    a.hostId = (JSON.parse(readFileSync(idFile, 'utf8')) as { hostId: number }).hostId;
    return a;
  }

  agent(region: string): LabAgent {
    const a = this.agents.get(region);
    if (!a) throw new Error(`no agent in ${region}`);
    return a;
  }

  async startAgent(region: string): Promise<void> {
    const a = this.agent(region);
    const fd = this.logFd(`agent-${region}`);
    const args = [
      MAIN,
      'agent',
      '--coordinator',
      this.url,
      '--enroll-token',
      this.enrollToken,
      '--region',
      region,
      '--endpoint',
      `${a.host.addr}:51820`,
      '--iface',
      a.iface,
      '--state-dir',
      a.stateDir,
      // Plain HTTP on the lab's private bridge: say so, as an operator would have to.
      '--insecure',
      '--log-level',
      this.o.logLevel ?? process.env.SIXPN_LAB_LOG_LEVEL ?? 'info',
      ...(a.gateway ? ['--gateway'] : []),
      ...(this.o.agentArgs ?? []),
      ...a.args,
    ];
    a.proc = spawn('nsenter', [`--net=/var/run/netns/${a.host.ns}`, process.execPath, ...args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, SIXPN_LAB_ID: this.lab.id, ...a.env },
    });
    closeSync(fd);
  }

  /** Stop an agent process (SIGTERM: a clean stop; SIGKILL: a crash). The host keeps running. */
  async stopAgent(region: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const a = this.agent(region);
    const p = a.proc;
    a.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  }

  async createMachine(app: string, region: string, extra: Record<string, unknown> = {}): Promise<Machine> {
    const { machine } = await this.api<{ machine: Machine }>('POST', '/v1/machines', { app, region, ...extra });
    this.machines.add(machine.id);
    return machine;
  }

  async hosts(): Promise<Host[]> {
    return (await this.api<{ hosts: Host[] }>('GET', '/v1/hosts')).hosts;
  }

  /** Poll until `f` returns a value other than undefined/false. */
  async until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined && v !== false) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await sleep(everyMs);
    }
  }

  /** Wait until the machine's namespace is up with its address. */
  async attached(m: Machine, timeoutMs = 30_000): Promise<void> {
    await this.until(
      `machine ${m.id} attached`,
      async () => {
        if (!existsSync(`/var/run/netns/sixpn-${m.id}`)) return false;
        const r = await execa('ip', ['-n', `sixpn-${m.id}`, '-6', 'addr', 'show', 'dev', 'eth0'], { reject: false });
        return r.exitCode === 0 && r.stdout.includes(`${m.address}/112`);
      },
      timeoutMs,
    );
  }

  inMachine(machineId: string, argv: string[], opts: { reject?: boolean; timeout?: number } = {}) {
    return this.lab.exec(`sixpn-${machineId}`, argv, opts);
  }

  /** `dig` from inside a machine, through its resolv.conf (fdaa:N:N::3). */
  async dig(machineId: string, name: string, type = 'AAAA'): Promise<{ status: string; answers: string[] }> {
    const r = await this.inMachine(machineId, ['dig', '+time=1', '+tries=2', '+noall', '+comments', '+answer', type, name], { reject: false });
    const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? 'NOANSWER';
    const answers = r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith(';'))
      .map((l) => l.split(/\s+/).slice(4).join(' '));
    return { status, answers };
  }

  async wgDump(region: string): Promise<WgDump> {
    const a = this.agent(region);
    const r = await execa('ip', ['netns', 'exec', a.host.ns, 'wg', 'show', a.iface, 'dump']);
    return parseDump(r.stdout);
  }

  async ifindex(region: string): Promise<number> {
    const a = this.agent(region);
    const r = await execa('ip', ['-n', a.host.ns, '-o', 'link', 'show', 'dev', a.iface]);
    return Number(r.stdout.split(':')[0]);
  }

  /** Everything goes: agents, their hosts' devices, machines, namespaces, the coordinator. */
  async destroy(): Promise<void> {
    for (const region of this.agents.keys()) await this.stopAgent(region, 'SIGKILL').catch(() => undefined);
    for (const a of this.agents.values()) {
      if (!existsSync(`/var/run/netns/${a.host.ns}`)) continue;
      await execa(
        'nsenter',
        [
          `--net=/var/run/netns/${a.host.ns}`,
          process.execPath,
          MAIN,
          'agent',
          '--teardown',
          '--state-dir',
          a.stateDir,
          '--iface',
          a.iface,
          '--log-level',
          'warn',
        ],
        { reject: false },
      );
    }
    // Machines whose record never made it to a state dir (agent killed mid-attach).
    for (const id of this.machines) {
      if (existsSync(`/var/run/netns/sixpn-${id}`)) await execa('ip', ['netns', 'delete', `sixpn-${id}`], { reject: false });
      rmSync(`/etc/netns/sixpn-${id}`, { recursive: true, force: true });
    }
    // Backstop: a wireguard-go whose teardown was skipped (its namespace already gone) must not outlive the lab.
    for (const a of this.agents.values()) await execa('pkill', ['-f', `^wireguard-go -f ${a.iface}$`], { reject: false });
    await this.killCoordinator().catch(() => undefined);
    await this.lab.destroy();
    if (!this.o.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
