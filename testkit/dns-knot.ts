// Start a real knotd on loopback with given zones (config and zone files in a
// temp dir, unprivileged port, one UDP worker): the upstream for forwarding
// tests and the reference server of the DNS benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQuery, udpExchange } from './dns-packets.js';

export interface KnotZone {
  /** zone apex, e.g. "example.test" */
  origin: string;
  /** zone file body (records); an SOA and NS are added */
  records: string;
}

export interface Knot {
  host: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on host (there is a small race until the server binds it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const port = await new Promise<number>((res, rej) => {
      udp.once('error', rej);
      udp.bind(0, host, () => res(udp.address().port));
    });
    const ok = await new Promise<boolean>((res) => {
      const srv = net.createServer();
      srv.once('error', () => res(false));
      srv.listen(port, host, () => srv.close(() => res(true)));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
}

export async function startKnot(
  zones: KnotZone[],
  opts: { host?: string; udpWorkers?: number; /** command prefix, e.g. taskset -c 1 */ wrap?: string[] } = {},
): Promise<Knot> {
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-knot-'));
  const port = await freePort(host);
  for (const z of zones) {
    writeFileSync(
      join(dir, `${z.origin}.zone`),
      [
        `$ORIGIN ${z.origin}.`,
        '$TTL 5',
        `@ IN SOA ns.${z.origin}. hostmaster.${z.origin}. 1 3600 600 86400 5`,
        `@ IN NS ns.${z.origin}.`,
        `ns IN A 127.0.0.1`,
        z.records,
        '',
      ].join('\n'),
    );
  }
  writeFileSync(
    join(dir, 'knot.conf'),
    [
      'server:',
      `    rundir: "${dir}"`,
      `    listen: ${host}@${port}`,
      `    udp-workers: ${opts.udpWorkers ?? 1}`,
      '    tcp-workers: 1',
      '    background-workers: 1',
      'database:',
      `    storage: "${dir}"`,
      'log:',
      '  - target: stderr',
      '    any: error',
      'zone:',
      ...zones.flatMap((z) => [`  - domain: ${z.origin}`, `    file: "${join(dir, `${z.origin}.zone`)}"`, '    semantic-checks: off']),
      '',
    ].join('\n'),
  );
  const argv = [...(opts.wrap ?? []), 'knotd', '-c', join(dir, 'knot.conf')];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // ready when it answers its first zone's SOA
    const probe = buildQuery(zones[0]!.origin, 6);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`knotd exited: ${stderr}`);
      if (await udpExchange(host, port, probe, 200)) break;
      if (i > 50) throw new Error(`knotd did not answer on ${host}:${port}: ${stderr}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, port, pid: child.pid!, stop };
}
