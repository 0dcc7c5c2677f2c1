// A developer's laptop joined to the mesh as a developer peer: a namespace
// on the lab's "internet" bridge only, where stock `wg-quick` brings up the
// very file `sixpn wireguard create` writes. There is no kernel WireGuard
// here, so wg-quick runs wireguard-go (WG_QUICK_USERSPACE_IMPLEMENTATION); its
// `DNS =` line goes through a `resolvconf` shim that writes the namespace's
// /etc/netns/<ns>/resolv.conf, which `ip netns exec` shows as /etc/resolv.conf,
// so programs on the laptop resolve `.internal` names like anywhere else.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { renderPeerConfig } from '../../src/wg/quick.js';
import type { Peer } from '../../src/model/types.js';
import type { MeshLab } from '../../lab/meshlab.js';
import type { LabHost } from '../../lab/lab.js';
import { generateKeyPair } from '../../src/wg/keys.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// wg-quick calls `resolvconf -a IFACE -m 0 -x` with "nameserver X" on stdin
// and `resolvconf -d IFACE -f` on the way down. Writing in place keeps the
// inode `ip netns exec` bind-mounts over /etc/resolv.conf.
const RESOLVCONF = `#!/bin/sh
f="$SIXPN_LAPTOP_RESOLV_CONF"
[ -n "$f" ] || { echo "resolvconf shim: SIXPN_LAPTOP_RESOLV_CONF unset" >&2; exit 1; }
case "$1" in
  -a) cat > "$f" ;;
  -d) : > "$f" ;;
esac
`;

export interface PeerCreated {
  peer: Peer;
  gateway: { host_id: number; public_key: string; endpoint: string; region: string };
  dns: string;
  allowed_ips: string;
}

export class Laptop {
  /** wg-quick's output on the way up (the `[#] …` lines) */
  upLog = '';
  private isUp = false;

  private constructor(
    readonly lab: MeshLab,
    readonly host: LabHost,
    readonly dir: string,
    readonly iface: string,
    readonly created: PeerCreated,
  ) {}

  get ns(): string {
    return this.host.ns;
  }
  get address(): string {
    return this.created.peer.address;
  }
  get conf(): string {
    return join(this.dir, `${this.iface}.conf`);
  }
  private get resolvConf(): string {
    return `/etc/netns/${this.host.ns}/resolv.conf`;
  }

  /** A laptop namespace, a developer peer `name` (of `app`, when given), and wg-quick up. */
  static async up(lab: MeshLab, o: { org: string; name: string; region: string; app?: string }): Promise<Laptop> {
    const host = await lab.lab.addHost(o.name);
    const dir = mkdtempSync(join(tmpdir(), `sixpn-laptop-${lab.id}-`));
    // Unique per run: wireguard-go's UAPI sockets (/var/run/wireguard) are shared by all namespaces.
    const iface = `l${lab.id}${o.name.slice(0, 6)}`.slice(0, 15);
    const keys = generateKeyPair();
    const created = await lab.api<PeerCreated>('POST', `/v1/orgs/${o.org}/peers`, {
      name: o.name,
      region: o.region,
      public_key: keys.publicKey,
      ...(o.app ? { app: o.app } : {}),
    });
    const l = new Laptop(lab, host, dir, iface, created);
    try {
      writeFileSync(l.conf, renderPeerConfig(keys.privateKey, created), { mode: 0o600 });
      chmodSync(l.conf, 0o600);
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'resolvconf'), RESOLVCONF, { mode: 0o755 });
      // Must exist before any `ip netns exec`, so each one bind-mounts it.
      mkdirSync(`/etc/netns/${host.ns}`, { recursive: true });
      writeFileSync(l.resolvConf, '');
      const r = await l.wgQuick('up');
      l.upLog = (r.stderr || r.stdout).trim();
      if (r.exitCode !== 0) throw new Error(`wg-quick up failed: ${l.upLog}`);
      l.isUp = true;
    } catch (err) {
      await l.down();
      throw err;
    }
    return l;
  }

  private wgQuick(action: 'up' | 'down') {
    return execa('ip', ['netns', 'exec', this.ns, 'wg-quick', action, this.conf], {
      reject: false,
      timeout: 30_000,
      env: {
        PATH: `${join(this.dir, 'bin')}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
        WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go',
        SIXPN_LAPTOP_RESOLV_CONF: this.resolvConf,
      },
    });
  }

  /** Run a command on the laptop (its resolv.conf is what `DNS =` set). */
  exec(argv: string[], opts: { timeout?: number; env?: Record<string, string> } = {}) {
    return execa('ip', ['netns', 'exec', this.ns, ...argv], { reject: false, timeout: opts.timeout ?? 30_000, env: { ...process.env, ...opts.env } });
  }

  /**
   * wg-quick down, then any process still in the namespace (wireguard-go
   * would keep the namespace alive after `ip netns delete`), the UAPI
   * socket, /etc/netns and the temp dir. Safe to call twice.
   */
  async down(): Promise<void> {
    if (this.isUp) await this.wgQuick('down').catch(() => undefined);
    this.isUp = false;
    for (let i = 0; i < 40; i++) {
      const r = await execa('ip', ['netns', 'pids', this.ns], { reject: false });
      const pids = r.exitCode === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
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
    rmSync(`/var/run/wireguard/${this.iface}.sock`, { force: true });
    rmSync(`/etc/netns/${this.ns}`, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
