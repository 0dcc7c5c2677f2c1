// A lab of network namespaces on one machine, standing in for hosts in
// different regions: an "internet" namespace holding a bridge, one namespace
// per host plugged into it, and a veth from the root namespace onto the same
// bridge (so a coordinator in the root namespace is reachable by every host).
// Used by the end-to-end tests, the demo and the benchmarks; never by the
// agent. Addresses come from 198.18.0.0/15 (RFC 2544, reserved for testing).
//
// Lab plumbing uses `ip` freely: it plays the operator building hosts.
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';

export interface LabHost {
  name: string;
  ns: string;
  /** underlay IPv4 address */
  addr: string;
}

const run = (argv: string[], input?: string) => execa(argv[0]!, argv.slice(1), { input });

export class Lab {
  readonly hosts = new Map<string, LabHost>();
  readonly inetNs: string;
  readonly rootIface: string;
  /** root-namespace address on the lab bridge (for a coordinator) */
  readonly rootAddr: string;
  private readonly net: string;
  private next = 10;

  private constructor(
    readonly id: string,
    octet: number,
  ) {
    this.inetNs = `sxl-${id}-inet`;
    this.rootIface = `sxl${id}r`;
    this.net = `198.18.${octet}`;
    this.rootAddr = `${this.net}.1`;
  }

  /** A lab with a fresh id (4 hex chars) and a /24 no other lab on this machine uses. */
  static async create(id = randomBytes(2).toString('hex')): Promise<Lab> {
    const used = new Set([...(await execa('ip', ['-4', '-o', 'addr', 'show'])).stdout.matchAll(/inet 198\.18\.(\d+)\./g)].map((m) => Number(m[1])));
    let octet = parseInt(id.slice(0, 2), 16);
    for (let i = 0; i < 256 && used.has(octet); i++) octet = (octet + 1) % 256;
    if (used.has(octet)) throw new Error('no free 198.18.x.0/24 for a lab');
    const lab = new Lab(id, octet);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async build(): Promise<void> {
    await run(['ip', 'netns', 'add', this.inetNs]);
    await run(['ip', '-n', this.inetNs, '-batch', '-'], 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n');
    await run(['ip', 'link', 'add', this.rootIface, 'type', 'veth', 'peer', 'name', `${this.rootIface}p`]);
    await run(['ip', 'link', 'set', `${this.rootIface}p`, 'netns', this.inetNs]);
    await run(['ip', '-n', this.inetNs, '-batch', '-'], `link set ${this.rootIface}p master br0\nlink set ${this.rootIface}p up\n`);
    await run(['ip', 'addr', 'add', `${this.rootAddr}/24`, 'dev', this.rootIface]);
    await run(['ip', 'link', 'set', this.rootIface, 'up']);
  }

  async addHost(name: string): Promise<LabHost> {
    const ns = `sxl-${this.id}-${name}`;
    const addr = `${this.net}.${this.next++}`;
    const port = `sxl${this.id}${name.slice(0, 5)}`.slice(0, 15);
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', `${port.slice(0, 14)}x`]);
    await run(['ip', 'link', 'set', port, 'netns', this.inetNs]);
    await run(['ip', 'link', 'set', `${port.slice(0, 14)}x`, 'netns', ns]);
    await run(['ip', '-n', this.inetNs, '-batch', '-'], `link set ${port} master br0\nlink set ${port} up\n`);
    await run(
      ['ip', '-n', ns, '-batch', '-'],
      ['link set lo up', `link set ${port.slice(0, 14)}x name eth0`, 'link set eth0 up', `addr add ${addr}/24 dev eth0`, ''].join('\n'),
    );
    const h: LabHost = { name, ns, addr };
    this.hosts.set(name, h);
    return h;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  /** argv prefix that runs a long-lived process in a host's network namespace
   *  only (nsenter keeps the root mount namespace, so namespaces the process
   *  creates with `ip netns add` are visible to everyone). */
  nsenter(ns: string): string[] {
    return ['nsenter', `--net=/var/run/netns/${ns}`];
  }

  /** Run a command in a namespace (`ip netns exec`: /etc/netns files applied). */
  exec(ns: string, argv: string[], opts: { reject?: boolean; timeout?: number } = {}): ResultPromise<{ reject: boolean; timeout?: number }> {
    return execa('ip', ['netns', 'exec', ns, ...argv], { reject: opts.reject ?? true, timeout: opts.timeout });
  }

  async destroy(): Promise<void> {
    for (const h of this.hosts.values()) {
      if (existsSync(`/var/run/netns/${h.ns}`)) await execa('ip', ['netns', 'delete', h.ns], { reject: false });
    }
    this.hosts.clear();
    await execa('ip', ['link', 'delete', this.rootIface], { reject: false });
    if (existsSync(`/var/run/netns/${this.inetNs}`)) await execa('ip', ['netns', 'delete', this.inetNs], { reject: false });
  }
}
