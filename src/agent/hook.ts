// The `hook` attachment driver, for a real VM runtime: an executable does the
// machine side (create the host interface named $SIXPN_IFACE, boot the VM,
// tear it down); the agent then puts the host address on that interface and
// polices it with nftables like any attachment.
//
//   <hook> attach|detach|check   with SIXPN_* facts in the environment
// exit 0 = done/healthy; anything else = failed, stderr's last line the reason.
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { enableInterfaceForwarding } from '../netlink/forwarding.js';
import type { Rtnl } from '../netlink/rtnl.js';
import type { Attachment, AttachmentDriver, HealthProblem } from './types.js';
import { machineEnv } from './types.js';

function reasonOf(stderr: string, fallback: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  return (lines[lines.length - 1] ?? fallback).slice(0, 500);
}

export class HookDriver implements AttachmentDriver {
  readonly name = 'hook';

  constructor(
    private readonly hook: string,
    private readonly rtnl: Rtnl,
    private readonly log: Logger,
    private readonly timeoutMs = 60_000,
  ) {}

  private run(action: string, env: Record<string, string>) {
    // A clean environment: the facts, not the agent's own (an enroll token may be there).
    const base = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' };
    return execa(this.hook, [action], { env: { ...base, ...env, SIXPN_ACTION: action }, extendEnv: false, reject: false, timeout: this.timeoutMs });
  }

  async attach(a: Attachment): Promise<void> {
    const env = { ...machineEnv(a), ...(a.command ? { SIXPN_COMMAND: JSON.stringify(a.command) } : {}) };
    const r = await this.run('attach', env);
    if (r.exitCode !== 0) throw new Error(`hook attach: ${reasonOf(r.stderr, `exit ${r.exitCode}`)}`);
    const link = await this.rtnl.link(a.hostIface);
    if (!link) throw new Error(`hook attach did not create interface ${a.hostIface}`);
    await this.rtnl.addAddress(link.index, `${a.gateway}/${a.subnet.split('/')[1]}`, { nodad: true });
    await this.rtnl.setLink(link.index, { up: true });
    // The guest's traffic is forwarded into the tunnel: on for this interface, never `all`.
    const noForwarding = enableInterfaceForwarding(a.hostIface);
    if (noForwarding) this.log.error({ iface: a.hostIface, reason: noForwarding }, 'IPv6 forwarding not enabled');
    this.log.debug({ machine: a.machineId, iface: a.hostIface }, 'hook attached');
  }

  async detach(a: Pick<Attachment, 'machineId' | 'hostIface' | 'nsName'>): Promise<void> {
    const r = await this.run('detach', { SIXPN_MACHINE_ID: a.machineId, SIXPN_IFACE: a.hostIface });
    if (r.exitCode !== 0) this.log.warn({ machine: a.machineId, reason: reasonOf(r.stderr, `exit ${r.exitCode}`) }, 'hook detach failed');
    const link = await this.rtnl.link(a.hostIface);
    if (link) await this.rtnl.deleteLink(link.index).catch(() => undefined);
  }

  async check(a: Attachment): Promise<HealthProblem> {
    const link = await this.rtnl.link(a.hostIface);
    if (!link) return `interface ${a.hostIface} is gone`;
    const r = await this.run('check', machineEnv(a));
    return r.exitCode === 0 ? null : `hook check: ${reasonOf(r.stderr, `exit ${r.exitCode}`)}`;
  }
}
