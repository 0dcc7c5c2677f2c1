// The WireGuard device itself: kernel WireGuard when the kernel has it
// (rtnetlink link of kind "wireguard"), else a wireguard-go process.
//
// wireguard-go is started detached so it outlives the agent: restarting the
// agent must not rebuild the interface or drop sessions. Its pid is kept in a
// file so an explicit teardown can stop it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { NetlinkError, type Rtnl } from '../netlink/rtnl.js';
import type { WgTool } from './cli.js';

export type DeviceKind = 'kernel' | 'userspace';

export interface DeviceHandle {
  iface: string;
  kind: DeviceKind;
  /** false when an existing device was adopted (agent restart) */
  created: boolean;
  /** wireguard-go pid (userspace only, when known) */
  pid: number | null;
}

export interface DeviceOptions {
  iface: string;
  rtnl: Rtnl;
  wg: WgTool;
  log: Logger;
  /** where to keep wireguard-go's pid (for teardown) */
  pidFile?: string;
  /** wireguard-go's own output */
  logFile?: string;
  /** force userspace even when the kernel has WireGuard */
  userspace?: boolean;
  wireguardGo?: string;
}

const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENODEV', 'EAFNOSUPPORT']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readPid(file: string | undefined): number | null {
  if (!file || !existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** True when pid is a live wireguard-go for this interface (guards against pid reuse). */
export function isWireguardGo(pid: number, iface: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return argv.some((a) => a.endsWith('wireguard-go')) && argv.includes(iface) && !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export async function ensureDevice(o: DeviceOptions): Promise<DeviceHandle> {
  const link = await o.rtnl.link(o.iface);
  if (link) {
    if (await o.wg.show(o.iface)) {
      const kind: DeviceKind = link.kind === 'wireguard' ? 'kernel' : 'userspace';
      const pid = readPid(o.pidFile);
      o.log.info({ iface: o.iface, kind, childPid: pid }, 'adopted existing WireGuard device');
      return { iface: o.iface, kind, created: false, pid: pid && isWireguardGo(pid, o.iface) ? pid : null };
    }
    o.log.warn({ iface: o.iface, kind: link.kind }, 'link exists but is not a usable WireGuard device; recreating');
    await o.rtnl.deleteLink(link.index);
  }
  if (!o.userspace) {
    try {
      await o.rtnl.createLink(o.iface, 'wireguard');
      o.log.info({ iface: o.iface }, 'created kernel WireGuard device');
      return { iface: o.iface, kind: 'kernel', created: true, pid: null };
    } catch (err) {
      if (!(err instanceof NetlinkError && UNSUPPORTED.has(err.code))) throw err;
      o.log.info({ iface: o.iface, code: err.code }, 'no kernel WireGuard; using wireguard-go');
    }
  }
  return { iface: o.iface, kind: 'userspace', created: true, pid: await spawnWireguardGo(o) };
}

async function spawnWireguardGo(o: DeviceOptions): Promise<number> {
  const out = o.logFile ? openSync(o.logFile, 'a') : 'ignore';
  const child = spawn(o.wireguardGo ?? 'wireguard-go', ['-f', o.iface], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, LOG_LEVEL: process.env.WG_LOG_LEVEL ?? 'error' },
  });
  if (typeof out === 'number') closeSync(out);
  let exited: string | null = null;
  child.once('exit', (code, sig) => {
    exited = `exit ${code ?? sig}`;
  });
  child.once('error', (err) => {
    exited = String(err);
  });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error(`could not start wireguard-go: ${exited ?? 'no pid'}`);
  if (o.pidFile) writeFileSync(o.pidFile, `${pid}\n`);
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    if (await o.wg.show(o.iface)) {
      o.log.info({ iface: o.iface, childPid: pid }, 'started wireguard-go');
      return pid;
    }
    await sleep(25);
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  throw new Error(`wireguard-go ${o.iface} did not come up (${exited ?? 'timeout'})`);
}

/** Remove the device and stop its wireguard-go. Idempotent. */
export async function removeDevice(o: Pick<DeviceOptions, 'iface' | 'rtnl' | 'log' | 'pidFile'>): Promise<void> {
  const link = await o.rtnl.link(o.iface);
  if (link) await o.rtnl.deleteLink(link.index).catch(() => undefined);
  const pid = readPid(o.pidFile);
  if (pid && isWireguardGo(pid, o.iface)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 40 && isWireguardGo(pid, o.iface); i++) await sleep(25);
  }
  if (o.pidFile) rmSync(o.pidFile, { force: true });
  rmSync(`/var/run/wireguard/${o.iface}.sock`, { force: true });
  o.log.info({ iface: o.iface }, 'removed WireGuard device');
}
