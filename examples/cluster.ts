// `npm run demo:cluster` (root): clusters on a three-region sixpn mesh built
// on this one machine (the same world as test/e2e/cluster.test.ts: real
// coordinator, agents, wireguard-go, nftables). A narrated tour:
//   1. a Temporal-shaped cluster (frontend, history, matching) finds itself
//      through `_instances.internal` and converges; a member leaves, one joins;
//   2. workers reach the frontend by `top1.nearest.of…` and by every address,
//      one of them from a laptop outside the hosts (a developer peer, wg-quick);
//   3. a database-shaped cluster: a node marks itself `role=primary` through
//      the host's machine API; the primary stops, another promotes itself and
//      the clients follow `primary.role.kv._metadata.pg.internal`.
// Everything is removed on exit or Ctrl-C. `--stay` keeps it up until Ctrl-C.
import { readFileSync } from 'node:fs';
import { networkDnsAddress } from '../src/addr/plan.js';
import type { Machine } from '../src/model/types.js';
import { ClusterWorld, memberName, nearestRegion, PORTS, REGIONS, SCRIPTS, type ClientStatus, type PgStatus, type WorkerStatus } from './cluster/world.js';

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

  step(3, 'a database-shaped cluster: the primary by metadata, and a failover');
  say('Three `pg` nodes (a small TCP service standing in for PostgreSQL). The lowest started id promotes itself by');
  say("PUT http://[fdaa:N:N::3]/v1/self/metadata/role on its host's machine API (no token: the host knows the caller");
  say('by its attachment). Two clients dial primary.role.kv._metadata.pg.internal:5432 again and again.');
  const nodes = await Promise.all(REGIONS.map((r) => w.pgNode(r)));
  const clients = await Promise.all(['iad', 'nrt'].map((r) => w.pgClient(r)));
  const byId = [...nodes].sort((a, b) => (a.id < b.id ? -1 : 1));
  await lab.until('clients on the first primary', async () => {
    const cs = await Promise.all(clients.map((c) => w.status<ClientStatus>(c, PORTS.clientStatus)));
    return cs.every((c) => c?.primary === byId[0]!.id);
  });
  const primary = byId[0]!;
  say(`  primary: ${bold(primary.id)} in ${primary.region}`);
  const api = `http://[${networkDnsAddress(primary.network_id)}]`;
  await inMachine(primary, ['curl', '-s', `${api}/v1/self`], 'the machine API, from inside the primary');
  await inMachine(clients[0]!, ['dig', '+short', 'AAAA', 'primary.role.kv._metadata.pg.internal'], 'the name the clients dial');

  say();
  say(`${bold('stopping the primary')} (machines stop ${primary.id})…`);
  const stopAt = Date.now();
  await w.stop(primary);
  const next = byId[1]!;
  for (const c of clients) {
    const ms = await lab.until(
      'client follows',
      async () => {
        const s = await w.status<ClientStatus>(c, PORTS.clientStatus);
        const h = s?.history.find((x) => x.at >= stopAt && x.primary === next.id);
        return h ? h.at - stopAt : false;
      },
      30_000,
      100,
    );
    say(`  client in ${c.region}: on the new primary ${next.id.slice(0, 6)}… (${next.region}) ${bold(`${ms} ms`)} after the stop (DNS TTL is 5 s)`);
  }
  // The replica notices on its next poll (300 ms) and follows the new primary.
  await lab
    .until('the replica follows', async () => (await w.status<PgStatus>(byId[2]!, PORTS.pgStatus))?.following === next.id, 10_000, 100)
    .catch(() => undefined);
  const roles = await Promise.all(byId.slice(1).map((n) => w.status<PgStatus>(n, PORTS.pgStatus)));
  for (const r of roles) if (r) say(`  pg ${r.id.slice(0, 6)}…: ${r.role}${r.following ? `, following ${r.following.slice(0, 6)}…` : ''}`);
  for (const l of w.output(next).slice(-2)) say(dim(`  | ${l}`));

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
