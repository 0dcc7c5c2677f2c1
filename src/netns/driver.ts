// The `netns` attachment driver: a machine is a network namespace
// `sixpn-<machine_id>` joined to the host by a veth pair.
//
// Host-side work (the veth pair, born with its peer already inside the
// namespace; the host address; link state) goes through rtnetlink like the
// rest of the agent. Two things cannot: Node cannot setns(2), and a netlink
// socket only configures the namespace it was opened in, so (1) creating the
// named namespace (unshare + bind mount) and (2) configuring its interior
// (lo, eth0 address, default route) are done by `ip`, isolated here and
// batched into one `ip -n <ns> -batch -` call per attach.
import { existsSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { enableInterfaceForwarding } from '../netlink/forwarding.js';
import type { Rtnl } from '../netlink/rtnl.js';
import type { Attachment, AttachmentDriver, HealthProblem, HostSurvey } from '../agent/types.js';

export interface NetnsDriverOptions {
  runDir?: string;
  etcDir?: string;
  ip?: string;
  /** name of the machine's interface inside its namespace */
  innerIface?: string;
}

/** /etc/netns/<ns>/hosts: what `ip netns exec` bind-mounts over /etc/hosts. */
export function hostsFile(a: Pick<Attachment, 'address' | 'machineId'>): string {
  return ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${a.address}\tsixpn-local-6pn ${a.machineId}`, ''].join('\n');
}

export function resolvConf(a: Pick<Attachment, 'dnsAddress'>): string {
  return `nameserver ${a.dnsAddress}\noptions ndots:0\n`;
}

/**
 * /etc/netns/<ns>/gai.conf: prefer IPv6 in getaddrinfo, even for the
 * wildcard. A machine has only IPv6 on its interface, yet glibc's default
 * labels put 0.0.0.0 before :: (it "matches" the IPv4 loopback), so servers
 * that bind the first passive address (`python3 -m http.server 8080`) would
 * listen on IPv4 only and be unreachable at <app>.internal.
 */
export function gaiConf(): string {
  return '# sixpn: IPv6 first (the machine lives on the 6PN mesh)\nlabel ::/0 1\nprecedence ::/0 100\nprecedence ::ffff:0:0/96 1\n';
}

/** `ip -batch` lines that configure a fresh namespace's interior. */
export function interiorBatch(a: Pick<Attachment, 'address' | 'gateway' | 'subnet'>, inner = 'eth0'): string {
  const len = a.subnet.split('/')[1];
  return [
    'link set lo up',
    `link set ${inner} up`,
    `address add ${a.address}/${len} dev ${inner} nodad`,
    `route add default via ${a.gateway} dev ${inner}`,
    '',
  ].join('\n');
}

/** Per-namespace sysctls of a machine's netns. */
export const MACHINE_SYSCTLS = ['net.ipv4.ip_unprivileged_port_start=0', 'net.ipv4.ping_group_range=0 2147483647'];

/** An `ip` call that takes longer is killed and fails (execa: "timed out after N milliseconds"). */
export const IP_TIMEOUT_MS = 10_000;
const IP_CALL = { timeout: IP_TIMEOUT_MS, stdin: 'ignore' } as const;

export class NetnsDriver implements AttachmentDriver {
  readonly name = 'netns';
  private readonly runDir: string;
  private readonly etcDir: string;
  private readonly ip: string;
  private readonly inner: string;

  constructor(
    private readonly rtnl: Rtnl,
    private readonly log: Logger,
    o: NetnsDriverOptions = {},
  ) {
    this.runDir = o.runDir ?? '/var/run/netns';
    this.etcDir = o.etcDir ?? '/etc/netns';
    this.ip = o.ip ?? 'ip';
    this.inner = o.innerIface ?? 'eth0';
  }

  private nsPath(ns: string): string {
    return join(this.runDir, ns);
  }

  async attach(a: Attachment): Promise<void> {
    await this.detach(a); // leftovers of an interrupted attempt
    const etc = join(this.etcDir, a.nsName);
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'resolv.conf'), resolvConf(a));
    writeFileSync(join(etc, 'hosts'), hostsFile(a));
    writeFileSync(join(etc, 'gai.conf'), gaiConf());
    await execa(this.ip, ['netns', 'add', a.nsName], IP_CALL);
    const fd = openSync(this.nsPath(a.nsName), 'r');
    try {
      await this.rtnl.createVeth(a.hostIface, this.inner, { peerNsFd: fd, mtu: a.mtu });
    } finally {
      closeSync(fd);
    }
    const link = await this.rtnl.link(a.hostIface);
    if (!link) throw new Error(`veth ${a.hostIface} vanished after creation`);
    await this.rtnl.addAddress(link.index, `${a.gateway}/${a.subnet.split('/')[1]}`, { nodad: true });
    await this.rtnl.setLink(link.index, { up: true });
    // The machine's traffic is forwarded into the tunnel: on for this interface, never `all`.
    const noForwarding = enableInterfaceForwarding(a.hostIface);
    if (noForwarding) this.log.error({ iface: a.hostIface, reason: noForwarding }, 'IPv6 forwarding not enabled');
    await execa(this.ip, ['-n', a.nsName, '-batch', '-'], { input: interiorBatch(a, this.inner), timeout: IP_TIMEOUT_MS });
    // The namespace is the machine's alone: its unprivileged (sandboxed) command may
    // bind any port and ping (ping's file capability is void under no_new_privs).
    await execa(this.ip, ['netns', 'exec', a.nsName, 'sysctl', '-q', '-w', ...MACHINE_SYSCTLS], IP_CALL);
    this.log.debug({ machine: a.machineId, ns: a.nsName, iface: a.hostIface }, 'netns attached');
  }

  async detach(a: Pick<Attachment, 'machineId' | 'hostIface' | 'nsName'>): Promise<void> {
    if (existsSync(this.nsPath(a.nsName))) {
      await this.killAll(a.nsName);
      const r = await execa(this.ip, ['netns', 'delete', a.nsName], { ...IP_CALL, reject: false });
      if (r.timedOut) throw new Error(`ip netns delete ${a.nsName} timed out after ${IP_TIMEOUT_MS} ms`);
    }
    const link = await this.rtnl.link(a.hostIface);
    if (link) await this.rtnl.deleteLink(link.index).catch(() => undefined);
    rmSync(join(this.etcDir, a.nsName), { recursive: true, force: true });
  }

  /** Every process still inside the namespace (a machine's daemons too). */
  private async killAll(ns: string): Promise<void> {
    const pids = async (): Promise<number[]> => {
      const r = await execa(this.ip, ['netns', 'pids', ns], { ...IP_CALL, reject: false });
      if (r.timedOut) throw new Error(`ip netns pids ${ns} timed out after ${IP_TIMEOUT_MS} ms`);
      return r.stdout
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((p) => p > 1 && p !== process.pid);
    };
    let list = await pids();
    const signal = (sig: NodeJS.Signals): void => {
      for (const p of list) {
        try {
          process.kill(p, sig);
        } catch {
          /* gone */
        }
      }
    };
    signal('SIGTERM');
    for (let i = 0; i < 20 && list.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      list = await pids();
    }
    if (list.length) signal('SIGKILL');
  }

  /** Two dumps (links, addresses) for a whole round of checks. */
  async survey(): Promise<HostSurvey> {
    const links = new Map((await this.rtnl.links()).map((l) => [l.name, { index: l.index, up: l.up }]));
    const addresses = new Map<number, Set<string>>();
    for (const x of await this.rtnl.addresses()) {
      let set = addresses.get(x.index);
      if (!set) addresses.set(x.index, (set = new Set()));
      set.add(x.ip);
    }
    return { links, addresses };
  }

  async check(a: Attachment, survey?: HostSurvey): Promise<HealthProblem> {
    if (!existsSync(this.nsPath(a.nsName))) return `namespace ${a.nsName} is gone`;
    const s = survey ?? (await this.survey());
    const link = s.links.get(a.hostIface);
    if (!link) return `interface ${a.hostIface} is gone`;
    if (!link.up) return `interface ${a.hostIface} is down`;
    if (!s.addresses.get(link.index)?.has(a.gateway)) return `interface ${a.hostIface} lost ${a.gateway}`;
    return null;
  }

  /** `ip netns exec` also gives the command the machine's /etc files (and its own mount namespace). */
  commandArgv(a: Attachment, argv: string[]): string[] {
    return [this.ip, 'netns', 'exec', a.nsName, ...argv];
  }

  /** Every machine's /etc files and every namespace handle. */
  hiddenPaths(): string[] {
    return [this.etcDir, this.runDir];
  }
}
