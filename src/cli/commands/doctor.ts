// `sixpn doctor`: what this machine needs for sixpn, each check ok/warn/fail
// with a one-line fix; exit 1 when any check fails.
import { createSocket } from 'node:dgram';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { ApiError } from '../../client/errors.js';
import { client, json } from '../ctx.js';
import { intIn } from '../flags.js';
import { str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';
import type { Context } from '../spec.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

function onPath(cmd: string): string | null {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const f = join(d, cmd);
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return null;
}

function tools(): Check[] {
  const pkg: Record<string, string> = { wg: 'wireguard-tools', 'wireguard-go': 'wireguard-go', nft: 'nftables', ip: 'iproute2', resolvconf: 'openresolv' };
  return Object.entries(pkg).map(([cmd, p]) => {
    const at = onPath(cmd);
    if (at) return { name: cmd, status: 'ok', detail: at };
    // resolvconf matters only for wg-quick peers (their DNS line); wireguard-go only without kernel WireGuard.
    const soft = cmd === 'resolvconf' || cmd === 'wireguard-go';
    return { name: cmd, status: soft ? 'warn' : 'fail', detail: 'not found on PATH', fix: `apt-get install ${p}` };
  });
}

function kernel(): Check {
  if (existsSync('/sys/module/wireguard')) return { name: 'wireguard-kernel', status: 'ok', detail: 'the kernel module is loaded' };
  if (existsSync('/dev/net/tun'))
    return {
      name: 'wireguard-kernel',
      status: 'warn',
      detail: 'no kernel WireGuard; /dev/net/tun is there for wireguard-go',
      fix: 'modprobe wireguard (or keep wireguard-go installed)',
    };
  return {
    name: 'wireguard-kernel',
    status: 'fail',
    detail: 'neither kernel WireGuard nor /dev/net/tun',
    fix: 'modprobe wireguard, or modprobe tun for wireguard-go',
  };
}

async function coordinator(ctx: Context): Promise<Check[]> {
  let api;
  try {
    api = client(ctx, 5000);
  } catch (err) {
    return [{ name: 'coordinator', status: 'warn', detail: (err as Error).message, fix: 'sixpn context add NAME --api URL --token-file F' }];
  }
  try {
    await api.listOrgs();
    return [{ name: 'coordinator', status: 'ok', detail: 'reachable (TLS verified when https), the token is accepted' }];
  } catch (err) {
    if (err instanceof ApiError && err.status === 403)
      return [{ name: 'coordinator', status: 'ok', detail: `reachable; the token's scope cannot list orgs (${err.summary})` }];
    if (err instanceof ApiError)
      return [{ name: 'coordinator', status: 'fail', detail: `refused the token: ${err.summary}`, fix: 'sixpn tokens create … then --token-file F' }];
    return [
      {
        name: 'coordinator',
        status: 'fail',
        detail: (err as Error).message,
        fix: 'check the URL (sixpn context list), the network, and --ca for a private CA',
      },
    ];
  }
}

/** One TXT query for _apps.internal; the rcode, or null without an answer. */
export function queryRcode(host: string, port: number, timeoutMs = 1500): Promise<number | null> {
  const name = Buffer.concat([...['_apps', 'internal'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const q = Buffer.concat([Buffer.from([0x5a, 0x17, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 16, 0, 1])]);
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (v: number | null): void => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    s.on('error', () => done(null));
    s.on('message', (m) => done(m.length >= 4 ? m[3]! & 0x0f : null));
    s.send(q, port, host);
  });
}

async function agentDns(port: number): Promise<Check> {
  const rcode = await queryRcode('::1', port).then((r) => r ?? queryRcode('127.0.0.1', port));
  if (rcode === null)
    return {
      name: 'agent-dns',
      status: 'warn',
      detail: `no DNS answer on localhost port ${port} (no agent here?)`,
      fix: 'systemctl status sixpn-agent; sixpn agent --dns-port P',
    };
  if (rcode === 0) return { name: 'agent-dns', status: 'ok', detail: `_apps.internal answers on port ${port}` };
  return {
    name: 'agent-dns',
    status: 'ok',
    detail: `the DNS server on port ${port} answers (rcode ${rcode}: loopback is in no network; machines ask fdaa:N:N::3)`,
  };
}

async function redirect(): Promise<Check> {
  if (!onPath('nft')) return { name: 'nft-redirect', status: 'warn', detail: 'nft is missing: cannot check', fix: 'apt-get install nftables' };
  try {
    const { stdout } = await execa('nft', ['list', 'ruleset'], { timeout: 5000 });
    if (/dport 53 redirect/.test(stdout)) return { name: 'nft-redirect', status: 'ok', detail: 'port 53 of fdaa:*::3 is redirected to the local DNS server' };
    return {
      name: 'nft-redirect',
      status: 'warn',
      detail: 'no ::3 DNS redirect in the ruleset (no agent running here?)',
      fix: 'start the agent: it installs the redirect',
    };
  } catch (err) {
    return { name: 'nft-redirect', status: 'warn', detail: `nft list ruleset: ${(err as Error).message.split('\n')[0]}`, fix: 'run sixpn doctor as root' };
  }
}

export async function doctorCommand(ctx: Context): Promise<number> {
  let dnsPort: number;
  try {
    dnsPort = intIn(str(ctx.flags, 'dns-port') ?? '5354', 'dns-port', 1, 65535);
  } catch (err) {
    throw new UsageError((err as Error).message, { showUsage: true });
  }
  const checks: Check[] = [...tools(), kernel(), ...(await coordinator(ctx)), await agentDns(dnsPort), await redirect()];
  const failed = checks.some((c) => c.status === 'fail');
  if (json(ctx)) printJson({ ok: !failed, checks });
  else {
    const order = { fail: 0, warn: 1, ok: 2 } as const;
    for (const c of [...checks].sort((a, b) => order[a.status] - order[b.status])) {
      process.stdout.write(`${c.status.padEnd(4)}  ${c.name.padEnd(16)}  ${c.detail}${c.fix && c.status !== 'ok' ? `\n      fix: ${c.fix}` : ''}\n`);
    }
  }
  return failed ? 1 : 0;
}
