// `npm run demo:cluster` (root): clusters on a three-region sixpn mesh built
// on this one machine (the same world as test/e2e/cluster.test.ts: real
// coordinator, agents, wireguard-go, nftables). A narrated tour:
//   1. a Temporal-shaped cluster (frontend, history, matching) finds itself
//      through `_instances.internal` and converges; a member leaves, one joins;
//   2. workers reach the frontend by `top1.nearest.of…` and by every address,
//      one of them from a laptop outside the hosts (a developer peer, wg-quick);
//   3. PostgreSQL 15: a primary holding lease `primary` and a synchronous
//      streaming replica in another region; clients write through
//      `primary.lease.pg.internal`; the primary's machine stops, the replica
//      takes the lease and promotes itself, and no acknowledged commit is lost.
// Everything is removed on exit or Ctrl-C. `--stay` keeps it up until Ctrl-C.
import { readFileSync } from 'node:fs';
import type { Machine } from '../src/model/types.js';
import { failoverLine, pgFailover } from './cluster/pgscenario.js';
import { ClusterWorld, memberName, nearestRegion, PORTS, REGIONS, SCRIPTS, type WorkerStatus } from './cluster/world.js';

const tty = process.stdout.isTTY;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
const shq = (a: string): string => (/^[\w@%+=:,./\[\]-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const short = (name: string): string => name.replace(/^temporal-/, '').replace(/\/(\w{6})\w*$/, '/$1…');
const step = (n: number, s: string): void => {
  say();
  say(bold(`── ${n}. ${s}`));
};

async function tour(w: ClusterWorld, stay: boolean): Promise<void> {
  const lab = w.lab;
  for (const r of REGIONS) {
    const a = lab.agent(r);
    say(`  host ${bold(r)}: namespace ${a.host.ns}, underlay ${a.host.addr}, WireGuard ${a.iface}${a.gateway ? ' (gateway for developer peers)' : ''}`);
  }
  const inMachine = async (m: Machine, argv: string[], note: string): Promise<string> => {
    say(dim(`# ${note}`));
    say(dim(`$ ip netns exec sixpn-${m.id} ${argv.map(shq).join(' ')}`));
    const r = await lab.inMachine(m.id, argv, { reject: false, timeout: 20_000 });
    const out = (r.stdout || r.stderr).trimEnd();
    say(out);
    return out;
  };

  step(1, 'a Temporal-shaped cluster across three regions');
  say('Each member is a small TCP service bound to [::]:7233, started with `machines run`. It reads');
  say('`_instances.internal` TXT, dials every other member of frontend/history/matching, and reports');
  say('the membership it sees.');
  const plan: [string, string][] = [
    ['temporal-frontend', 'ams'],
    ['temporal-frontend', 'iad'],
    ['temporal-history', 'ams'],
    ['temporal-history', 'iad'],
    ['temporal-history', 'nrt'],
    ['temporal-matching', 'iad'],
    ['temporal-matching', 'nrt'],
  ];
  let t0 = Date.now();
  let members = await Promise.all(plan.map(([app, region]) => w.member(app, region)));
  for (const m of members) say(`  ${m.app.padEnd(18)} ${m.region}  ${m.id}  ${m.address}`);
  let conv = await w.converged(members);
  say(bold(`every member sees all ${members.length} after ${conv.lastChangeAt - t0} ms (from the create calls, node start included):`));
  for (const s of conv.statuses.filter((x, i, all) => all.findIndex((y) => y.self.region === x.self.region) === i)) {
    say(`  ${short(`${s.self.app}/${s.self.id}`).padEnd(20)} in ${s.self.region}: ${s.members.map(short).join(' ')}`);
  }
  const frontend = members[0]!;
  say(dim(`  (what ${short(memberName(frontend))} printed:)`));
  for (const l of w.output(frontend).slice(-3)) say(dim(`  | ${l}`));
  await inMachine(members[4]!, ['dig', '+short', 'TXT', '_instances.internal'], 'how they found each other, from the history member in nrt');

  say();
  const leaving = members.find((m) => m.app === 'temporal-history' && m.region === 'nrt')!;
  say(`${bold('a member leaves and one joins:')} stop history ${leaving.id.slice(0, 6)}… in nrt, run a new matching member in ams`);
  t0 = Date.now();
  const [joined] = await Promise.all([w.member('temporal-matching', 'ams'), w.stop(leaving)]);
  members = [...members.filter((m) => m !== leaving), joined];
  conv = await w.converged(members);
  say(`  converged ${conv.lastChangeAt - t0} ms after the calls; ${short(memberName(frontend))} now sees: ${conv.statuses[0]!.members.map(short).join(' ')}`);

  step(2, 'workers reach the frontend by name');
  say('Inside the mesh: `temporal-worker` machines in iad and nrt dial top1.nearest.of.temporal-frontend.internal');
  say('(what `dns:///top1.nearest.of.temporal-frontend.internal:7233` gives a gRPC client) and every address of');
  say('temporal-frontend.internal.');
  const frontends = members.filter((m) => m.app === 'temporal-frontend');
  const workers = await Promise.all(['iad', 'nrt'].map((r) => w.worker(r)));
  for (const wk of workers) {
    const s = await lab.until('worker reached the frontends', async () => {
      const st = await w.status<WorkerStatus>(wk, PORTS.workerStatus);
      return st && st.nearest && st.all.length === frontends.length ? st : false;
    });
    const near = frontends.find((f) => memberName(f) === s.nearest);
    say(
      `  worker in ${bold(wk.region)}: nearest frontend ${short(s.nearest!)} in ${near?.region} (closest of ${frontends.map((f) => f.region).join('/')}: ${nearestRegion(
        wk.region,
        frontends.map((f) => f.region),
      )}); all: ${s.all.map(short).join(' ')}`,
    );
  }

  say();
  say('Outside the hosts: a laptop joins as a developer peer of app temporal-worker (`sixpn wireguard create acme ams');
  say('laptop --app temporal-worker`) and brings the file up with stock wg-quick.');
  const laptop = await w.startLaptop();
  say(dim(`$ cat ${laptop.iface}.conf`));
  say(dim(readConf(laptop.conf)));
  say(dim(`$ ip netns exec ${laptop.ns} wg-quick up ${laptop.iface}.conf`));
  // (without wireguard-go's boxed banner)
  say(
    dim(
      laptop.upLog
        .split('\n')
        .filter((l) => !/^[│┌└]/.test(l.trim()))
        .join('\n'),
    ),
  );
  const ext = await laptop.exec([process.execPath, SCRIPTS.worker, '--once', '--port', String(PORTS.member)], { env: { WORKER_NAME: 'laptop' } });
  const es = JSON.parse(ext.stdout.trim().split('\n').pop() ?? '{}') as Partial<WorkerStatus>;
  say(`  external worker on the laptop: nearest frontend ${short(es.nearest ?? '-')}, all: ${(es.all ?? []).map(short).join(' ') || '-'}`);
  await inMachine(
    workers[1]!,
    ['dig', '+short', 'AAAA', 'temporal-worker.internal'],
    `and inside the mesh it is one more temporal-worker (the laptop is ${laptop.address}):`,
  );

  step(3, 'PostgreSQL: a primary and a synchronous replica, by lease; the primary stops');
  say("Debian's PostgreSQL 15 as the sandboxed command of two `pg` machines (data and socket in the machine's work dir,");
  say("listening on its mesh address). The node that gets lease `primary` (PUT /v1/self/leases/primary on its host's");
  say('machine API, renewed every second) is the primary; the other streams from primary.lease.pg.internal and, when the');
  say('lease ends, takes it and runs pg_promote().');
  const pgRun = await pgFailover(w, (l) => say(l.startsWith('$') ? dim(l) : l));
  say(`  primary.lease.pg.internal: ${pgRun.before.lease.join(' ')} before, ${pgRun.after.lease.join(' ')} after`);
  say(`  ${pgRun.acked} acknowledged commits, ${pgRun.rows} rows on the new primary`);
  const notes = w.output(pgRun.replica).filter((x) => x.includes('pgnode'));
  for (const l of notes.slice(-3)) say(dim(`  | ${l}`));
  say(bold(failoverLine(pgRun)));
  say();
  if (stay) {
    say(bold('the clusters stay up; machine namespaces are sixpn-<id>. Ctrl-C removes everything.'));
    say(`  coordinator: ${lab.url} (admin token: ${lab.adminToken})`);
    await new Promise(() => undefined);
  }
  say(bold('tour done.'));
}

function readConf(file: string): string {
  // Private key hidden: the demo prints what a developer would see, not their secret.
  return readFileSync(file, 'utf8')
    .replace(/PrivateKey = .*/, 'PrivateKey = (hidden)')
    .trimEnd();
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('demo:cluster: needs root (it creates network namespaces, WireGuard devices and nftables rules)\n');
    return 2;
  }
  const stay = process.argv.includes('--stay');
  say(bold('sixpn cluster demo: building a three-region mesh on this machine…'));
  let world: ClusterWorld | null = null;
  let interrupted = false;
  let closing: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (closing ??= (async () => {
      if (!world) return;
      say(dim('\nremoving machines, namespaces, WireGuard devices, nftables tables and processes…'));
      await world.destroy();
      say(dim('done.'));
    })());
  const onSignal = (): void => {
    interrupted = true;
    // Still building: the world is removed as soon as it exists (below).
    if (world) void cleanup().then(() => process.exit(130));
  };
  // `on`, not `once`: execa's signal-exit re-raises a signal when it finds no
  // other listener, which would kill us half-way through the cleanup.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    world = await ClusterWorld.start();
    if (interrupted) return 130;
    await tour(world, stay);
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo:cluster failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  },
);
