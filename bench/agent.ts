// Agent benchmarks, on a lab of namespaces with the real binaries (root):
//   convergence  `machines create` → every host's DNS answers it (p50/p99)
//   peers        a host joins → one peer added on a 1,000-peer interface
//   throughput   TCP between machines on two hosts vs bare wireguard-go
// node dist/bench/agent.js [--only convergence|peers|throughput] [--hosts 4] [--machines 100] [--peers 1000] [--seconds 4]
// (SIXPN_BENCH_ROUNDS=N iperf3 rounds per path, default 4)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { MeshLab } from '../lab/meshlab.js';
import { Lab } from '../lab/lab.js';
import { WgTool } from '../src/wg/cli.js';
import { generateKeyPair } from '../src/wg/keys.js';
import type { DesiredPeer } from '../src/wg/diff.js';

const { values: opt } = parseArgs({
  options: {
    only: { type: 'string' },
    hosts: { type: 'string' },
    machines: { type: 'string' },
    peers: { type: 'string' },
    seconds: { type: 'string' },
  },
});
const HOSTS = Number(opt.hosts ?? 4);
const MACHINES = Number(opt.machines ?? 100);
const PEERS = Number(opt.peers ?? 1000);
const SECONDS = Number(opt.seconds ?? 4);
const PROBE = fileURLToPath(new URL('./agent-probe.js', import.meta.url));
const REGIONS = ['ams', 'iad', 'nrt', 'syd', 'gru', 'jnb', 'fra', 'lax'];
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const f1 = (x: number): string => x.toFixed(1);
const row = (cells: (string | number)[]): void => console.log(cells.map((c) => String(c).padEnd(16)).join(' '));

/** Log lines of an agent after byte offset `from`, parsed. */
function logLines(file: string, from = 0): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function convergence(): Promise<void> {
  const w = await MeshLab.start({ logLevel: 'info' });
  const probes: ChildProcess[] = [];
  try {
    const regions = REGIONS.slice(0, HOSTS);
    await Promise.all(regions.map((r) => w.addHost(r)));
    await w.api('POST', '/v1/orgs', { name: 'bench' });
    await w.api('POST', '/v1/apps', { name: 'probe', org: 'bench' });
    await w.api('POST', '/v1/apps', { name: 'app', org: 'bench' });
    // One probe machine per host, asking that host's DNS.
    const seen = new Map<string, Map<string, number>>(); // name → region → time
    const waiters = new Map<string, () => void>();
    for (const r of regions) {
      const m = await w.createMachine('probe', r);
      await w.attached(m);
      const p = spawn('ip', ['netns', 'exec', `sixpn-${m.id}`, process.execPath, PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
      probes.push(p);
      const lines = createInterface({ input: p.stdout! });
      await new Promise<void>((res) => lines.once('line', () => res()));
      lines.on('line', (l) => {
        const [name, t] = l.split(' ');
        const per = seen.get(name!) ?? new Map<string, number>();
        per.set(r, Number(t));
        seen.set(name!, per);
        if (per.size === regions.length) waiters.get(name!)?.();
      });
    }
    const all: number[] = [];
    const perHost: number[] = [];
    const attach: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < MACHINES; i++) {
      const region = regions[i % regions.length]!;
      const a = w.agent(region);
      const mark = readFileSync(a.logFile, 'utf8').length;
      const t0 = now();
      const m = await w.createMachine('app', region);
      api.push(now() - t0);
      const name = `${m.id}.vm.app.internal`;
      const done = new Promise<void>((res) => waiters.set(name, res));
      // Probes start asking once the id is known: an upper bound on the true time.
      for (const p of probes) p.stdin!.write(`${name}\n`);
      await done;
      const times = [...seen.get(name)!.values()].map((t) => t - t0);
      all.push(Math.max(...times));
      perHost.push(...times);
      await w.until('attached', async () => logLines(a.logFile, mark).some((l) => l.msg === 'machine attached' && l.machine === m.id), 15_000, 5);
      const at = logLines(a.logFile, mark).find((l) => l.msg === 'machine attached' && l.machine === m.id)!;
      attach.push(Number(at.time) - t0);
    }
    console.log(
      `\nconvergence: ${MACHINES} machines created one after another, ${HOSTS} hosts (create → DNS answers on every host; each host asked every 1 ms from a machine on it)`,
    );
    row(['metric', 'p50 ms', 'p99 ms', 'max ms']);
    row(['all hosts', f1(pct(all, 50)), f1(pct(all, 99)), f1(Math.max(...all))]);
    row(['each host', f1(pct(perHost, 50)), f1(pct(perHost, 99)), f1(Math.max(...perHost))]);
    row(['API answered', f1(pct(api, 50)), f1(pct(api, 99)), f1(Math.max(...api))]);
    row(['attached', f1(pct(attach, 50)), f1(pct(attach, 99)), f1(Math.max(...attach))]);
  } finally {
    for (const p of probes) p.kill('SIGKILL');
    await w.destroy();
  }
}

async function peers(): Promise<void> {
  // Part 1: the raw costs on a bare wireguard-go device with PEERS peers.
  const lab = await Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-bench-peers-'));
  const iface = `b${lab.id}wg`;
  let wgo: ChildProcess | null = null;
  try {
    const h = await lab.addHost('p');
    wgo = spawn('ip', ['netns', 'exec', h.ns, 'wireguard-go', '-f', iface], { stdio: 'ignore' });
    const inNs = (argv: string[]) => execa('ip', ['netns', 'exec', h.ns, ...argv]);
    for (let i = 0; i < 100; i++) {
      if ((await execa('ip', ['netns', 'exec', h.ns, 'wg', 'show', iface], { reject: false })).exitCode === 0) break;
      await sleep(20);
    }
    const keyFile = join(dir, 'k');
    writeFileSync(keyFile, `${generateKeyPair().privateKey}\n`, { mode: 0o600 });
    await inNs(['wg', 'set', iface, 'private-key', keyFile, 'listen-port', '51999']);
    const fake = (i: number): DesiredPeer => ({
      publicKey: generateKeyPair().publicKey,
      endpoint: `192.0.2.${(i % 250) + 1}:51820`,
      allowedIps: [`fdaa:0:1:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/80`],
      keepalive: 0,
    });
    const batch = Array.from({ length: PEERS }, (_, i) => fake(i + 1));
    // wg must run in the namespace: wrap through a tiny shim that prefixes `ip netns exec`.
    const shim = join(dir, 'wg');
    writeFileSync(shim, `#!/bin/sh\nexec ip netns exec ${h.ns} wg "$@"\n`, { mode: 0o755 });
    const nsWg = new WgTool(undefined, shim);
    let t = now();
    await nsWg.applyPeers(
      iface,
      batch.map((peer) => ({ kind: 'add', peer })),
    );
    const bulk = now() - t;
    const one: number[] = [];
    const dump: number[] = [];
    for (let i = 0; i < 20; i++) {
      t = now();
      await nsWg.show(iface);
      dump.push(now() - t);
      const p = fake(PEERS + 1 + i);
      t = now();
      await nsWg.applyPeers(iface, [{ kind: 'add', peer: p }]);
      one.push(now() - t);
    }
    console.log(`\npeers: bare wireguard-go device, ${PEERS} peers`);
    row(['operation', 'median ms']);
    row([`add ${PEERS} (batched)`, f1(bulk)]);
    row(['add 1 peer', f1(pct(one, 50))]);
    row(['wg show dump', f1(pct(dump, 50))]);
  } finally {
    wgo?.kill('SIGTERM');
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }

  // Part 2: the agent's whole path. PEERS hosts enrolled through the API (keys
  // with unreachable TEST-NET endpoints), then one more joins.
  const w = await MeshLab.start({ logLevel: 'debug' });
  try {
    await w.addHost('ams');
    const a = w.agent('ams');
    const enroll = async (i: number): Promise<void> => {
      const r = await fetch(`${w.url}/v1/hosts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.enrollToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ region: 'iad', endpoint: `192.0.2.${(i % 250) + 1}:51820`, public_key: generateKeyPair().publicKey }),
      });
      if (!r.ok) throw new Error(`enroll: ${r.status} ${await r.text()}`);
    };
    for (let i = 0; i < PEERS; i += 50) await Promise.all(Array.from({ length: Math.min(50, PEERS - i) }, (_, j) => enroll(i + j)));
    await w.until(`${PEERS} peers on ams`, async () => (await w.wgDump('ams')).peers.length === PEERS, 120_000, 250);
    await sleep(500);
    const joins: number[] = [];
    const passes: number[] = [];
    const sets: number[] = [];
    for (let i = 0; i < 10; i++) {
      const mark = readFileSync(a.logFile, 'utf8').length;
      const t0 = Date.now();
      await enroll(100_000 + i);
      await w.until('peer added', async () => logLines(a.logFile, mark).some((l) => l.msg === 'wg peers changed'), 10_000, 5);
      const lines = logLines(a.logFile, mark);
      const changed = lines.find((l) => l.msg === 'wg peers changed')!;
      joins.push(Number(changed.time) - t0);
      sets.push(Number(changed.ms));
      const c = lines.find((l) => l.msg === 'converged');
      if (c) passes.push(Number(c.ms));
    }
    console.log(`\npeers: agent path on an interface with ${PEERS}+ peers (host enrolled → peer added; pino ms timestamps)`);
    row(['metric', 'p50 ms', 'max ms']);
    row(['join → wg set', f1(pct(joins, 50)), f1(Math.max(...joins))]);
    row(['wg set 1 peer', f1(pct(sets, 50)), f1(Math.max(...sets))]);
    if (passes.length) row(['converge pass', f1(pct(passes, 50)), f1(Math.max(...passes))]);
  } finally {
    await w.destroy();
  }
}

async function iperf(clientNs: string, serverNs: string, addr: string): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', '5201'], { stdio: 'ignore' });
  try {
    await sleep(300);
    const r = await execa('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', addr, '-p', '5201', '-t', String(SECONDS), '-J', '--connect-timeout', '3000'], {
      timeout: (SECONDS + 20) * 1000,
    });
    const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second / 1e6;
  } finally {
    server.kill('SIGKILL');
  }
}

/**
 * Bare wireguard-go between the same two host namespaces (no agent path: no
 * veth hop, no forwarding, no nft rules on it); returns its address on b.
 */
async function bareTunnel(w: MeshLab, a: string, b: string, mtu: number, dir: string, procs: ChildProcess[]): Promise<string> {
  const ha = w.agent(a).host,
    hb = w.agent(b).host;
  const ifa = `x${w.id}a`,
    ifb = `x${w.id}b`;
  const ka = generateKeyPair(),
    kb = generateKeyPair();
  writeFileSync(join(dir, 'a'), `${ka.privateKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'b'), `${kb.privateKey}\n`, { mode: 0o600 });
  for (const [h, ifc] of [
    [ha, ifa],
    [hb, ifb],
  ] as const) {
    procs.push(spawn('ip', ['netns', 'exec', h.ns, 'wireguard-go', '-f', ifc], { stdio: 'ignore' }));
    await w.until('bare device', async () => (await execa('ip', ['netns', 'exec', h.ns, 'wg', 'show', ifc], { reject: false })).exitCode === 0);
  }
  await execa('ip', [
    'netns',
    'exec',
    ha.ns,
    'wg',
    'set',
    ifa,
    'private-key',
    join(dir, 'a'),
    'listen-port',
    '51998',
    'peer',
    kb.publicKey,
    'endpoint',
    `${hb.addr}:51998`,
    'allowed-ips',
    'fd99::2/128',
  ]);
  await execa('ip', [
    'netns',
    'exec',
    hb.ns,
    'wg',
    'set',
    ifb,
    'private-key',
    join(dir, 'b'),
    'listen-port',
    '51998',
    'peer',
    ka.publicKey,
    'endpoint',
    `${ha.addr}:51998`,
    'allowed-ips',
    'fd99::1/128',
  ]);
  await execa('ip', ['-n', ha.ns, '-batch', '-'], { input: `address add fd99::1/64 dev ${ifa} nodad\nlink set ${ifa} mtu ${mtu} up\n` });
  await execa('ip', ['-n', hb.ns, '-batch', '-'], { input: `address add fd99::2/64 dev ${ifb} nodad\nlink set ${ifb} mtu ${mtu} up\n` });
  return 'fd99::2';
}

const median = (xs: number[]): number => pct(xs, 50);

async function throughput(): Promise<void> {
  const ROUNDS = Number(process.env.SIXPN_BENCH_ROUNDS ?? 4);
  const results: { mtu: number; bare: number[]; mesh: number[] }[] = [];
  for (const mtu of [1280, 1420]) {
    // Outside filter off: the bare tunnel uses its own port, which the agents' filter would drop.
    const w = await MeshLab.start({ agentArgs: ['--mtu', String(mtu), '--no-outside-filter'] });
    const dir = mkdtempSync(join(tmpdir(), 'sixpn-bench-bare-'));
    const procs: ChildProcess[] = [];
    try {
      await Promise.all([w.addHost('ams'), w.addHost('iad')]);
      await w.api('POST', '/v1/orgs', { name: 'bench' });
      await w.api('POST', '/v1/apps', { name: 'tp', org: 'bench' });
      const ma = await w.createMachine('tp', 'ams');
      const mb = await w.createMachine('tp', 'iad');
      await Promise.all([w.attached(ma), w.attached(mb)]);
      const bareAddr = await bareTunnel(w, 'ams', 'iad', mtu, dir, procs);
      const r = { mtu, bare: [] as number[], mesh: [] as number[] };
      // Alternate, so drift in a noisy VM hits both paths alike; medians reported.
      for (let i = 0; i < ROUNDS; i++) {
        r.bare.push(await iperf(w.agent('ams').host.ns, w.agent('iad').host.ns, bareAddr));
        r.mesh.push(await iperf(`sixpn-${ma.id}`, `sixpn-${mb.id}`, mb.address));
      }
      results.push(r);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await w.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(
    `\nthroughput: iperf3 TCP ${SECONDS} s × ${ROUNDS} alternating rounds, machine→machine across two hosts vs bare wireguard-go between the same two host namespaces (medians)`,
  );
  row(['MTU', 'bare Mbit/s', 'mesh Mbit/s', 'mesh/bare', 'bare runs', 'mesh runs']);
  for (const r of results) {
    row([
      r.mtu,
      f1(median(r.bare)),
      f1(median(r.mesh)),
      (median(r.mesh) / median(r.bare)).toFixed(2),
      r.bare.map((x) => x.toFixed(0)).join('/'),
      r.mesh.map((x) => x.toFixed(0)).join('/'),
    ]);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/wireguard-go')) {
    console.log('agent bench skipped: needs root and wireguard-go');
    return;
  }
  const only = opt.only;
  if (!only || only === 'convergence') await convergence();
  if (!only || only === 'peers') await peers();
  if (!only || only === 'throughput') await throughput();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
