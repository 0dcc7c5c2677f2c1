// End to end: developer peers with stock tools. A gateway host (ams) and a
// second host (iad) on the lab's internet, machines of org acme serving HTTP
// and one of org globex; "laptops" are namespaces on the same internet and
// nothing else. The real CLI (`sixpn wireguard create`) writes the file,
// stock `wg-quick up` (wireguard-go, a resolvconf shim) brings it up, and
// dig/curl go through the `DNS =` server and the tunnel. One world for the
// suite; the steps build on each other in order.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Machine, Peer } from '../../src/model/types.js';
import { MeshLab } from '../../lab/meshlab.js';
import { e2eUnavailable, namespacesLike } from '../../testkit/mesh.js';
import { httpServiceCode, Laptop } from '../../testkit/peers-laptop.js';
import { runCli } from '../../testkit/proc.js';

const PORT = 8080;
const txt = (answers: string[]): string => answers.join(' ').replace(/"/g, '');

interface Created {
  peer: Peer;
  gateway: { host_id: number; public_key: string; endpoint: string; region: string };
  dns: string;
  allowed_ips: string;
  file: string;
}

describe('developer peers (e2e: sixpn wireguard create, stock wg-quick, wireguard-go, dig, curl)', function () {
  this.timeout(60_000);
  let w: MeshLab;
  let files: string;
  const m: Record<string, Machine> = {};
  const laptops: Laptop[] = [];
  let lapA: Laptop, lapB: Laptop;
  const env = { SIXPN_CONFIG: '/nonexistent/sixpn-cli.json' };
  const savedStatusMs = process.env.SIXPN_AGENT_PEER_STATUS_MS;
  // The CLI, as a process, against the lab's coordinator. That is plain HTTP
  // off loopback, so every call first warns about the token (checked, then
  // taken off stderr so the lines below are checked as they were).
  const cli = async (token: string, ...args: string[]) => {
    const r = await runCli([...args, '--api', w.url, '--token', token], env);
    const warning = `sixpn: warning: sending a token over plain HTTP to ${new URL(w.url).host}: anyone on the path can read it; use an https:// API URL\n`;
    assert.ok(r.stderr.startsWith(warning), `no plain-HTTP warning: ${r.stderr}`);
    return { ...r, stderr: r.stderr.slice(warning.length) };
  };
  const admin = (...args: string[]) => cli(w.adminToken, ...args);
  const conf = (tag: string) => join(files, `wl${w.id}${tag}.conf`); // wg-quick names the interface after the file (≤ 15 chars)
  let acme: Created;

  /** `wireguard create` as a CLI process, then wait until the gateway carries the peer. */
  async function createPeer(token: string, org: string, name: string, file: string, ...extra: string[]): Promise<Created> {
    const r = await cli(token, 'wireguard', 'create', org, 'ams', name, file, '--json', ...extra);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Created;
    await w.until(`gateway carries ${org}/${name}`, async () => (await w.wgDump('ams')).peers.some((p) => p.publicKey === c.peer.public_key), 15_000);
    return c;
  }

  before(async function () {
    const why = e2eUnavailable();
    // Fail loudly rather than skip: a skipped end-to-end suite would pass CI without testing anything.
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    for (const tool of ['wg-quick', 'curl', 'python3']) {
      if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) throw new Error(`end-to-end tests need ${tool}`);
    }
    this.timeout(120_000);
    // Gateways report peer status every 10 s by default; every 500 ms here.
    process.env.SIXPN_AGENT_PEER_STATUS_MS = '500';
    w = await MeshLab.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB), logLevel: 'warn' });
    files = mkdtempSync(join(tmpdir(), `sixpn-peers-${w.id}-`));
    await w.addHost('ams', { gateway: true });
    await w.addHost('iad');
    await w.api('POST', '/v1/orgs', { name: 'acme' });
    await w.api('POST', '/v1/orgs', { name: 'globex' });
    await w.api('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await w.api('POST', '/v1/apps', { name: 'evil', org: 'globex' });
    const serve = ['python3', '-c', httpServiceCode(PORT)];
    m.web1 = await w.createMachine('web', 'ams', { command: serve });
    m.web2 = await w.createMachine('web', 'iad', { command: serve });
    m.evil1 = await w.createMachine('evil', 'iad', { command: serve });
    await Promise.all(Object.values(m).map((x) => w.attached(x)));
    lapA = await Laptop.create(w.lab, 'lapa');
    laptops.push(lapA);
    lapB = await Laptop.create(w.lab, 'lapb');
    laptops.push(lapB);
  });

  after(async function () {
    this.timeout(60_000);
    if (savedStatusMs === undefined) delete process.env.SIXPN_AGENT_PEER_STATUS_MS;
    else process.env.SIXPN_AGENT_PEER_STATUS_MS = savedStatusMs;
    if (!w) return;
    for (const l of laptops) await l.close();
    const ids = [...w.machines];
    await w.destroy();
    if (files) rmSync(files, { recursive: true, force: true });
    assert.deepEqual(namespacesLike(w.id), [], 'lab namespaces left behind');
    assert.deepEqual(
      ids.filter((id) => existsSync(`/var/run/netns/sixpn-${id}`)),
      [],
      'machine namespaces left behind',
    );
    assert.deepEqual(
      readdirSync('/etc/netns').filter((n) => n.includes(w.id)),
      [],
      '/etc/netns entries left behind',
    );
    const socks = existsSync('/var/run/wireguard') ? readdirSync('/var/run/wireguard').filter((n) => n.includes(w.id)) : [];
    assert.deepEqual(socks, [], 'wireguard-go sockets left behind');
  });

  it('`wireguard create` + `wg-quick up`: web.internal through the DNS = server, TCP to machines by name', async () => {
    const file = conf('a');
    acme = await createPeer(w.adminToken, 'acme', 'laptop', file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^DNS = ${acme.dns}$`, 'm'));
    const up = await lapA.wgQuick('up', file);
    assert.equal(up.exitCode, 0, up.stderr);
    assert.match(up.stderr, /wireguard-go|ip link add/, up.stderr);
    // wg-quick handed the DNS line to resolvconf, which wrote the namespace's resolv.conf.
    assert.equal(lapA.resolvConf.trim(), `nameserver ${acme.dns}`);

    const web = await lapA.dig('web.internal');
    assert.equal(web.status, 'NOERROR', web.raw);
    assert.deepEqual(web.answers.sort(), [m.web1!.address, m.web2!.address].sort());
    // TCP by name: glibc's resolver (resolv.conf) and the tunnel, to each machine and to the app.
    await w.until('web.internal serves', async () => (await lapA.get('web.internal', PORT)) !== null, 20_000, 200);
    for (const x of [m.web1!, m.web2!]) {
      assert.equal(await lapA.get(`${x.id}.vm.web.internal`, PORT), x.id, `GET ${x.id}.vm.web.internal`);
    }
    assert.ok([m.web1!.id, m.web2!.id].includes((await lapA.get('web.internal', PORT))!));

    const peers = await lapA.dig('_peer.internal', 'TXT');
    assert.equal(peers.status, 'NOERROR');
    assert.deepEqual(txt(peers.answers).split(','), ['laptop']);
    assert.deepEqual((await lapA.dig('laptop._peer.internal')).answers, [acme.peer.address]);
    // A machine reaches the peer by that name too.
    const ping = await w.inMachine(m.web2!.id, ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', 'laptop._peer.internal'], { reject: false });
    assert.match(ping.stdout, / 0% packet loss/, ping.stdout + ping.stderr);
  });

  it("`wireguard status` shows the handshake and byte counts the gateway's agent reported", async function () {
    type Status = { peer: Peer; status: { latest_handshake: number; rx_bytes: number; tx_bytes: number; endpoint: string | null } | null };
    const s = await w.until(
      'status reported',
      async () => {
        const r = await admin('wireguard', 'status', 'acme', 'laptop', '--json');
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout) as Status;
        return j.status && j.status.latest_handshake > 0 && j.status.rx_bytes > 0 && j.status.tx_bytes > 0 ? j.status : false;
      },
      15_000,
      250,
    );
    const gw = (await w.wgDump('ams')).peers.find((p) => p.publicKey === acme.peer.public_key)!;
    assert.ok(s.rx_bytes <= gw.rxBytes && s.tx_bytes <= gw.txBytes, "reported counters are the gateway's");
    assert.equal(s.endpoint?.split(':')[0], lapA.host.addr, 'last endpoint seen is the laptop');
    const human = await admin('wireguard', 'status', 'acme', 'laptop');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /latest handshake\s+\d{4}-\d\d-\d\dT\S+ \(\d+ s ago\)/);
    assert.match(human.stdout, /from peer\s+\d+ B/);
    assert.match(human.stdout, new RegExp(`endpoint\\s+${lapA.host.addr.replace(/\./g, '\\.')}:\\d+`));
    this.test!.title += ` [${s.rx_bytes} B from peer, ${s.tx_bytes} B to peer]`;
  });

  it("a globex peer reaches its own machine, but neither reaches nor resolves acme's, even with a hand-edited AllowedIPs", async () => {
    const file = conf('b');
    const gx = await createPeer(w.adminToken, 'globex', 'gx-laptop', file);
    const up = await lapB.wgQuick('up', file);
    assert.equal(up.exitCode, 0, up.stderr);
    // Positive control: its own network works, by name.
    assert.deepEqual((await lapB.dig('evil.internal')).answers, [m.evil1!.address]);
    await w.until('evil.internal serves', async () => (await lapB.get('evil.internal', PORT)) === m.evil1!.id, 20_000, 200);

    assert.equal((await lapB.dig('web.internal')).status, 'NXDOMAIN');
    assert.equal((await lapB.dig(`${m.web2!.id}.vm.web.internal`)).status, 'NXDOMAIN');
    assert.equal((await lapB.dig('laptop._peer.internal')).status, 'NXDOMAIN');
    assert.deepEqual(txt((await lapB.dig('_peer.internal', 'TXT')).answers).split(','), ['gx-laptop']);
    assert.equal(txt((await lapB.dig('_apps.internal', 'TXT')).answers), 'evil');

    // The laptop's owner widens AllowedIPs to all of fdaa::/16: the gateway still forwards only within globex.
    const iface = `wl${w.id}b`;
    await lapB.exec(['wg', 'set', iface, 'peer', gx.gateway.public_key, 'allowed-ips', 'fdaa::/16']);
    await lapB.exec(['ip', '-6', 'route', 'add', 'fdaa::/16', 'dev', iface]);
    for (const x of [m.web1!, m.web2!]) assert.equal(await lapB.get(x.address, PORT, 2), null, `globex peer reached ${x.address}`);
    // Asking acme's DNS address gets globex's view (the source address decides).
    const viaAcme = await lapB.dig('web.internal', 'AAAA', acme.dns);
    assert.equal(viaAcme.status, 'NXDOMAIN', viaAcme.raw);
    assert.equal(await lapB.get(m.evil1!.address, PORT), m.evil1!.id, 'own machine still reachable');
  });

  it('a delegated token (tokens create --scope wireguard) creates and removes acme peers and is refused for everything else', async () => {
    const t = await admin('tokens', 'create', '--org', 'acme', '--scope', 'wireguard', '--json');
    assert.equal(t.code, 0, t.stderr);
    const { id, token } = JSON.parse(t.stdout) as { id: string; token: string };
    const ci = (...args: string[]) => cli(token, ...args);

    const file = join(files, 'ci.conf');
    const made = await ci('wireguard', 'create', 'acme', 'ams', 'ci', file);
    assert.equal(made.code, 0, made.stderr);
    assert.ok(existsSync(file));
    const list = await ci('wireguard', 'list', 'acme', '--json');
    assert.deepEqual((JSON.parse(list.stdout) as Peer[]).map((p) => p.name).sort(), ['ci', 'laptop']);
    assert.equal((await ci('wireguard', 'status', 'acme', 'ci')).code, 0);

    const refused: string[][] = [
      ['apps', 'list', '--org', 'acme'],
      ['apps', 'create', 'ci-app', '--org', 'acme'],
      ['machines', 'list', '--app', 'web'],
      ['machines', 'create', '--app', 'web', '--region', 'ams'],
      ['machines', 'stop', m.web1!.id],
      ['orgs', 'show', 'acme'],
      ['hosts', 'list'],
      ['tokens', 'create', '--org', 'acme', '--scope', 'org'],
      ['tokens', 'create', '--org', 'acme', '--scope', 'wireguard'],
      ['wireguard', 'list', 'globex'],
      ['wireguard', 'remove', 'globex', 'gx-laptop'],
      ['wireguard', 'create', 'globex', 'ams', 'ci2', join(files, 'ci2.conf')],
    ];
    for (const args of refused) {
      const r = await ci(...args);
      assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      // One clear line: what was refused and why.
      assert.match(
        r.stderr,
        /^sixpn \w+: (a wireguard token cannot do this( \(needs [\w -]+\))?|this token belongs to org acme, not globex) \(forbidden\)\n$/,
        `${args.join(' ')}: ${r.stderr}`,
      );
    }
    assert.ok(!existsSync(join(files, 'ci2.conf')), 'no file for a refused peer');
    // The same refusals on the wire are 403s.
    for (const [method, path] of [
      ['GET', '/v1/apps?org=acme'],
      ['GET', `/v1/machines?app=web`],
      ['GET', '/v1/orgs/globex/peers'],
    ] as const) {
      const r = await fetch(`${w.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 403, `${method} ${path}`);
    }
    assert.equal((await w.api<{ peers: Peer[] }>('GET', '/v1/orgs/globex/peers')).peers.length, 1, 'globex peer untouched');

    assert.equal((await ci('wireguard', 'remove', 'acme', 'ci')).code, 0);
    // Revoked: refused with 401, at once.
    assert.equal((await admin('tokens', 'revoke', id)).code, 0);
    const after = await ci('wireguard', 'list', 'acme');
    assert.equal(after.code, 1);
    assert.match(after.stderr, /^sixpn wireguard: unknown or revoked token \(unauthorized\)\n$/);
    const made2 = await ci('wireguard', 'create', 'acme', 'ams', 'ci3', join(files, 'ci3.conf'));
    assert.equal(made2.code, 1);
    assert.ok(!existsSync(join(files, 'ci3.conf')), 'no file for a refused peer');
  });

  it('`wireguard remove`: the gateway drops the peer and its connections fail within a second', async function () {
    const probe = lapA.probe(m.web2!.address, PORT);
    try {
      await w.until('probe connects', async () => probe.samples().filter((s) => s.ok).length >= 5, 15_000, 50);
      const started = Date.now();
      const r = await admin('wireguard', 'remove', 'acme', 'laptop');
      const returned = Date.now();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^removed peer laptop \(fdaa:/);
      // Correctness deadline of the issue (access ends within one second), polled generously.
      await w.until('probe fails', async () => probe.samples().some((s) => !s.ok && s.at >= started), 10_000, 20);
      await new Promise((res) => setTimeout(res, 1000));
      const samples = probe.samples().filter((s) => s.at >= started);
      const firstFail = samples.find((s) => !s.ok)!;
      const cutMs = firstFail.at - returned;
      assert.ok(cutMs <= 1000, `access lasted ${cutMs} ms after \`wireguard remove\` returned`);
      assert.deepEqual(
        samples.filter((s) => s.at >= firstFail.at && s.ok),
        [],
        'a connection succeeded after the cut',
      );
      // The CLI process exits a little after the API answered, so the cut may come first (negative).
      this.test!.title += ` [first failed connection ${cutMs} ms after \`remove\` returned (${firstFail.at - started} ms after it started, CLI run ${returned - started} ms)]`;
    } finally {
      await probe.stop();
    }
    assert.equal(await lapA.get('web.internal', PORT, 2), null);
    assert.equal(
      (await w.wgDump('ams')).peers.some((p) => p.publicKey === acme.peer.public_key),
      false,
    );
    assert.equal((await admin('wireguard', 'status', 'acme', 'laptop')).code, 1);
  });

  it('`wg-quick down` removes the interface, wireguard-go, its socket and the DNS setting', async () => {
    const iface = `wl${w.id}a`;
    const down = await lapA.wgQuick('down', conf('a'));
    assert.equal(down.exitCode, 0, down.stderr);
    await w.until('wireguard-go gone', async () => (await lapA.pids()).length === 0, 10_000);
    assert.deepEqual(await lapA.links(), []);
    assert.ok(!existsSync(`/var/run/wireguard/${iface}.sock`));
    assert.equal(lapA.resolvConf.trim(), '');
    assert.deepEqual(
      lapA.resolvconfCalls.map((c) => c.split(' ').slice(1, 3).join(' ')),
      [`-a ${iface}`, `-d ${iface}`],
    );
    const routes = await lapA.exec(['ip', '-6', 'route', 'show']);
    assert.doesNotMatch(routes.stdout, /fdaa/);
  });

  it('a peer created with --app web is an instance of web (AAAA, vms., _instances) reachable from machines; removed, the names go', async () => {
    const file = conf('c');
    const ext = await createPeer(w.adminToken, 'acme', 'ext', file, '--app', 'web');
    assert.equal(ext.peer.app, 'web');
    const up = await lapA.wgQuick('up', file);
    assert.equal(up.exitCode, 0, up.stderr);
    // A service on the "laptop" (an on-prem node of app web).
    lapA.spawn(['python3', '-c', httpServiceCode(PORT)], { NAME: 'ext' });
    const from = m.web2!.id; // a machine on the other host: through the gateway
    const present = async (): Promise<boolean[]> => {
      const [a, vms, inst, name] = await Promise.all([
        w.dig(from, 'web.internal'),
        w.dig(from, 'vms.web.internal', 'TXT'),
        w.dig(from, '_instances.internal', 'TXT'),
        w.dig(from, 'ext._peer.internal'),
      ]);
      return [
        a.answers.includes(ext.peer.address),
        txt(vms.answers).split(',').includes('ext ams'),
        txt(inst.answers).split(';').includes(`instance=ext,app=web,ip=${ext.peer.address},region=ams`),
        name.answers.includes(ext.peer.address),
      ];
    };
    assert.deepEqual(await present(), [true, true, true, true]);
    const a = await w.dig(from, 'web.internal');
    assert.deepEqual(a.answers.sort(), [m.web1!.address, m.web2!.address, ext.peer.address].sort());
    // Reachable by name from inside the mesh (kicks the handshake, so poll).
    await w.until(
      'machine reaches ext',
      async () => {
        const r = await w.inMachine(from, ['curl', '-sS', '--max-time', '2', `http://ext._peer.internal:${PORT}/`], { reject: false });
        return r.stdout.trim() === 'ext';
      },
      20_000,
      200,
    );

    assert.equal((await admin('wireguard', 'remove', 'acme', 'ext')).code, 0);
    await w.until('ext names gone', async () => (await present()).every((x) => !x), 10_000, 50);
    assert.deepEqual((await w.dig(from, 'web.internal')).answers.sort(), [m.web1!.address, m.web2!.address].sort());
    assert.equal((await lapA.wgQuick('down', file)).exitCode, 0);
  });
});
