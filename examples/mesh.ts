// `npm run demo` (root): a three-region sixpn mesh on this one machine — a
// namespace per host joined by an "internet" bridge namespace, the real
// coordinator and one real agent per host (wireguard-go, nftables) — then a
// short tour: .internal names, pings across regions through WireGuard, a
// `machines run` service, and a second org that can see and reach nothing.
// Everything it made is removed on exit or Ctrl-C. `--stay` keeps the mesh
// up until Ctrl-C so you can poke at it.
import type { Machine } from '../src/model/types.js';
import { MeshLab } from '../lab/meshlab.js';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
const shq = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('demo: needs root (it creates network namespaces, WireGuard devices and nftables rules)\n');
    return 2;
  }
  const stay = process.argv.includes('--stay');
  say(bold('sixpn demo: building a three-region mesh on this machine…'));
  const lab = await MeshLab.start();
  let closing: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (closing ??= (async () => {
      say(dim('\nremoving namespaces, WireGuard devices, nftables tables and processes…'));
      await lab.destroy();
      say(dim('done.'));
    })());
  const onSignal = (): void => {
    void cleanup().then(() => process.exit(130));
  };
  // on, not once: execa's signal-exit re-raises the signal, which would kill the cleanup half-way.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const regions = ['ams', 'iad', 'nrt'];
    await Promise.all(regions.map((r) => lab.addHost(r, { gateway: r === 'ams' })));
    for (const r of regions) {
      const a = lab.agent(r);
      say(`  host ${bold(r)}: namespace ${a.host.ns}, underlay ${a.host.addr}, WireGuard ${a.iface} (host id ${a.hostId})`);
    }
    await lab.api('POST', '/v1/orgs', { name: 'acme' });
    await lab.api('POST', '/v1/orgs', { name: 'globex' });
    for (const [app, org] of [
      ['web', 'acme'],
      ['db', 'acme'],
      ['api', 'acme'],
      ['intruder', 'globex'],
    ] as const)
      await lab.api('POST', '/v1/apps', { name: app, org });
    const web1 = await lab.createMachine('web', 'ams', { command: ['python3', '-m', 'http.server', '--bind', '::', '8080'] });
    const web2 = await lab.createMachine('web', 'iad', { command: ['python3', '-m', 'http.server', '--bind', '::', '8080'] });
    const db = await lab.createMachine('db', 'nrt', { metadata: { role: 'primary' } });
    const evil = await lab.createMachine('intruder', 'ams');
    await Promise.all([web1, web2, db, evil].map((m) => lab.attached(m)));
    say();
    for (const m of [web1, web2, db, evil]) say(`  machine ${m.id}  ${m.app.padEnd(8)} ${m.region}  ${m.address}  (${m.org})`);

    const run = async (m: Machine, argv: string[], note: string): Promise<void> => {
      say();
      say(bold(`# ${note}`));
      say(dim(`$ ip netns exec sixpn-${m.id} ${argv.map(shq).join(' ')}`));
      const r = await lab.inMachine(m.id, argv, { reject: false, timeout: 20_000 });
      say((r.stdout || r.stderr).trimEnd());
    };

    await run(db, ['dig', '+noall', '+answer', 'web.internal', 'AAAA'], 'from db in nrt: every started web machine, wherever it is');
    await run(db, ['dig', '+noall', '+answer', '_apps.internal', 'TXT'], 'the apps of this org');
    await run(db, ['dig', '+noall', '+answer', 'vms.web.internal', 'TXT'], 'web machines and their regions');
    await run(web2, ['dig', '+noall', '+answer', 'top1.nearest.of.web.internal', 'AAAA'], 'from iad: the web machine nearest to me');
    await run(web1, ['dig', '+noall', '+answer', 'primary.role.kv._metadata.db.internal', 'AAAA'], 'machines by metadata');
    await run(db, ['ping', '-6', '-c', '3', '-i', '0.3', `${web2.id}.vm.web.internal`], 'nrt → iad by name, through WireGuard');
    await run(
      db,
      [
        'python3',
        '-c',
        'import urllib.request as u; r = u.urlopen("http://web.internal:8080/", timeout=5); print("GET http://web.internal:8080/ →", r.status)',
      ],
      'a `machines run` service (python3 -m http.server) answering by name',
    );
    const nrt = lab.agent('nrt');
    say();
    say(bold(`# WireGuard on nrt: one peer per other host, allowed IPs = the /80s it holds`));
    say(dim(`$ ip netns exec ${nrt.host.ns} wg show ${nrt.iface}`));
    const { execa } = await import('execa');
    say((await execa('ip', ['netns', 'exec', nrt.host.ns, 'wg', 'show', nrt.iface])).stdout.replace(/private key: .*/, 'private key: (hidden)'));

    await run(evil, ['dig', '+noall', '+comments', 'web.internal', 'AAAA'], 'globex (another org) on the same host: web.internal does not exist for it');
    await run(evil, ['ping', '-6', '-c', '2', '-W', '1', web1.address], 'nor can it reach acme by literal address (same host)…');
    await run(evil, ['ping', '-6', '-c', '2', '-W', '1', web2.address], '…or across WireGuard');

    say();
    if (stay) {
      say(bold('the mesh stays up; try the commands above (machine namespaces are sixpn-<id>). Ctrl-C removes everything.'));
      say(`  coordinator: ${lab.url} (admin token: ${lab.adminToken})`);
      await new Promise(() => undefined);
    }
    say(bold('tour done.'));
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
    process.stderr.write(`demo failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  },
);
