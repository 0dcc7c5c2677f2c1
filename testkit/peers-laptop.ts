// A developer laptop for the peer tests: a namespace plugged only into the
// lab's "internet" bridge (Lab.addHost), where stock `wg-quick` brings up the
// file `sixpn wireguard create` wrote. wg-quick has no kernel module here, so
// it falls back to wireguard-go (WG_QUICK_USERSPACE_IMPLEMENTATION), and its
// `DNS =` line goes through a `resolvconf` shim that writes the namespace's
// /etc/netns/<ns>/resolv.conf, which `ip netns exec` shows as /etc/resolv.conf.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import type { Lab, LabHost } from '../lab/lab.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// What wg-quick calls: `resolvconf -a IFACE -m 0 -x` with "nameserver X" lines
// on stdin, `resolvconf -d IFACE -f` on the way down. Writing in place (`>`)
// keeps the inode that `ip netns exec` bind-mounts over /etc/resolv.conf.
const RESOLVCONF = `#!/bin/sh
ns=$(ip netns identify)
f="/etc/netns/$ns/resolv.conf"
echo "$ns $*" >> "$(dirname "$0")/calls.log"
case "$1" in
  -a) cat > "$f" ;;
  -d) : > "$f" ;;
  -l) cat "$f" ;;
esac
`;

/** A tiny HTTP service answering GET with $SIXPN_MACHINE_ID (or $NAME), on [::]:PORT. */
export function httpServiceCode(port: number): string {
  return [
    'import http.server, os, socket',
    'class H(http.server.BaseHTTPRequestHandler):',
    '    def do_GET(self):',
    "        b = (os.environ.get('SIXPN_MACHINE_ID') or os.environ.get('NAME', '')).encode() + b'\\n'",
    '        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)',
    '    def log_message(self, *a): pass',
    'class S(http.server.ThreadingHTTPServer): address_family = socket.AF_INET6',
    `S(('::', ${port}), H).serve_forever()`,
  ].join('\n');
}

// Tries a fresh TCP connection and an HTTP GET every 20 ms and prints
// "ok|fail <unix seconds>" for each attempt (its start time).
const PROBER = `
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
while True:
    t = time.time()
    ok = False
    try:
        s = socket.create_connection((host, port), timeout=0.2)
        s.settimeout(0.2)
        s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
        ok = s.recv(64).startswith(b'HTTP/')
        s.close()
    except OSError:
        pass
    print(('ok' if ok else 'fail') + ' %.3f' % t, flush=True)
    time.sleep(0.02)
`;

export interface Probe {
  /** attempts so far, start time in ms */
  samples(): { ok: boolean; at: number }[];
  stop(): Promise<void>;
}

export class Laptop {
  readonly host: LabHost;
  private readonly shimDir: string;
  private readonly children = new Set<ChildProcess>();
  /** config files brought up and not yet down */
  private readonly up = new Set<string>();
  /** every interface wg-quick was asked to make here */
  private readonly ifaces = new Set<string>();

  private constructor(host: LabHost) {
    this.host = host;
    this.shimDir = mkdtempSync(join(tmpdir(), `sixpn-laptop-${host.ns}-`));
    writeFileSync(join(this.shimDir, 'resolvconf'), RESOLVCONF, { mode: 0o755 });
    // Exists before any `ip netns exec`, so each one bind-mounts it.
    mkdirSync(`/etc/netns/${host.ns}`, { recursive: true });
    writeFileSync(this.resolvConfPath, '');
  }

  /** A namespace on the lab's internet bridge and nothing else. */
  static async create(lab: Lab, name: string): Promise<Laptop> {
    return new Laptop(await lab.addHost(name));
  }

  get ns(): string {
    return this.host.ns;
  }
  get resolvConfPath(): string {
    return `/etc/netns/${this.host.ns}/resolv.conf`;
  }
  get resolvConf(): string {
    return existsSync(this.resolvConfPath) ? readFileSync(this.resolvConfPath, 'utf8') : '';
  }
  get resolvconfCalls(): string[] {
    const f = join(this.shimDir, 'calls.log');
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  exec(argv: string[], opts: { timeout?: number; env?: Record<string, string> } = {}) {
    return execa('ip', ['netns', 'exec', this.ns, ...argv], { reject: false, timeout: opts.timeout ?? 20_000, env: opts.env });
  }

  /** Stock wg-quick on FILE (the interface is named after the file). */
  async wgQuick(action: 'up' | 'down', file: string) {
    const env = { PATH: `${this.shimDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go' };
    this.ifaces.add(basename(file, '.conf'));
    const r = await this.exec(['wg-quick', action, file], { env, timeout: 30_000 });
    if (action === 'up' && r.exitCode === 0) this.up.add(file);
    if (action === 'down' && r.exitCode === 0) this.up.delete(file);
    return r;
  }

  /** dig through the namespace's resolv.conf (what `DNS =` set), or @server. */
  async dig(name: string, type = 'AAAA', server?: string): Promise<{ status: string; answers: string[]; raw: string }> {
    const r = await this.exec(['dig', ...(server ? [`@${server}`] : []), '+time=1', '+tries=3', '+noall', '+comments', '+answer', type, name]);
    const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? 'NOANSWER';
    const answers = r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith(';'))
      .map((l) => l.split(/\s+/).slice(4).join(' '));
    return { status, answers, raw: r.stdout + r.stderr };
  }

  /** HTTP GET through glibc's resolver (names) or a literal; body on success, null on failure. */
  async get(host: string, port: number, timeoutS = 3): Promise<string | null> {
    const h = host.includes(':') ? `[${host}]` : host;
    const r = await this.exec(['curl', '-sS', '-g', '--max-time', String(timeoutS), `http://${h}:${port}/`]);
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  /** A long-lived process in the namespace (killed by close()). */
  spawn(argv: string[], env: Record<string, string> = {}): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
    return c;
  }

  probe(address: string, port: number): Probe {
    const c = this.spawn(['python3', '-c', PROBER, address, String(port)]);
    const out: { ok: boolean; at: number }[] = [];
    let buf = '';
    c.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [k, t] = l.split(' ');
        if (k && t) out.push({ ok: k === 'ok', at: Math.round(Number(t) * 1000) });
      }
    });
    return {
      samples: () => out,
      stop: async () => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      },
    };
  }

  /** Interfaces wg-quick made that still exist in the namespace. */
  async links(): Promise<string[]> {
    const r = await execa('ip', ['-n', this.ns, '-o', 'link', 'show'], { reject: false });
    return r.stdout
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((n) => n && n !== 'lo' && n !== 'eth0');
  }

  async pids(): Promise<number[]> {
    const r = await execa('ip', ['netns', 'pids', this.ns], { reject: false });
    return r.stdout.split(/\s+/).filter(Boolean).map(Number);
  }

  /**
   * Everything the laptop started goes, even after a failed test: wg-quick
   * down, then any process left in the namespace (wireguard-go would keep the
   * namespace alive after `ip netns delete`), the UAPI sockets, /etc/netns.
   */
  async close(): Promise<void> {
    for (const file of [...this.up]) await this.wgQuick('down', file).catch(() => undefined);
    for (const c of this.children) c.kill('SIGKILL');
    for (let i = 0; i < 40; i++) {
      const pids = await this.pids();
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(50);
    }
    for (const i of this.ifaces) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(`/etc/netns/${this.ns}`, { recursive: true, force: true });
    rmSync(this.shimDir, { recursive: true, force: true });
  }
}
