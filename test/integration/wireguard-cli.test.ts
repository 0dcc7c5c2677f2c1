// `sixpn wireguard create|list|remove|status` as a process against an
// in-process coordinator (real SQLite, real HTTP), with gateway hosts enrolled
// through the API. A recording proxy sits between the CLI and the API, so the
// test sees every byte the coordinator was sent. No root needed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkDnsAddress, networkPrefix, parseAddress } from '../../src/addr/plan.js';
import { publicKeyOf } from '../../src/wg/keys.js';
import type { Host, Peer } from '../../src/model/types.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { parseWgQuick, recordingProxy, runCliIn, type RecordingProxy } from '../../testkit/peers.js';
import { tempDir } from '../../testkit/tmp.js';

const ONE_LINE = /^sixpn wireguard: [^\n]+\n$/;

function wgPubkey(priv: string): string | null {
  try {
    return execFileSync('wg', ['pubkey'], { input: `${priv}\n`, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

describe('sixpn wireguard (CLI process against a coordinator with gateways)', function () {
  this.timeout(30_000);
  const dir = tempDir('sixpn-wgcli-');
  let c: TestCoordinator;
  let proxy: RecordingProxy;
  const gw: Record<string, Host & { credential: string }> = {};
  let acmeNet = 0,
    backendNet = 0;
  const env = { SIXPN_CONFIG: join(dir.path, 'no-such-cli.json'), HOME: dir.path };
  const run = (cwd: string, token: string, ...args: string[]) => runCliIn(cwd, ['wireguard', ...args, '--api', proxy.url, '--token', token], env);
  const wg = (...args: string[]) => run(dir.path, c.admin, ...args);
  const f = (name: string) => join(dir.path, name);
  const peers = async (org = 'acme'): Promise<Peer[]> => (await c.call('GET', `/v1/orgs/${org}/peers`)).json.peers;
  const privateKeys: string[] = [];
  const keep = (file: string): string => {
    const k = parseWgQuick(readFileSync(file, 'utf8')).Interface!.PrivateKey!;
    privateKeys.push(k);
    return k;
  };

  before(async () => {
    c = await testCoordinator();
    await c.listen();
    proxy = await recordingProxy(c.url);
    for (const [region, key, gateway] of [
      ['ams', KEY_A, true],
      ['fra', KEY_B, true],
      ['syd', KEY_C, false],
    ] as const) {
      const r = await c.call('POST', '/v1/hosts', { region, endpoint: `198.51.100.${Object.keys(gw).length + 7}:51820`, public_key: key, gateway });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      gw[region] = { ...r.json.host, credential: r.json.credential };
    }
    acmeNet = (await c.call('POST', '/v1/orgs', { name: 'acme' })).json.org.network_id;
    await c.call('POST', '/v1/orgs', { name: 'globex' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    backendNet = (await c.call('POST', '/v1/apps', { name: 'db', org: 'acme', network: 'backend' })).json.app.network_id;
    await c.call('POST', '/v1/apps', { name: 'evil', org: 'globex' });
  });

  after(async () => {
    await proxy?.close();
    await c?.close();
    dir.remove();
  });

  it('writes the wg-quick file of DESIGN.md, mode 0600, whose key pair the coordinator knows only by its public half', async () => {
    const file = f('laptop.conf');
    const r = await wg('create', 'acme', 'ams', 'laptop', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [peer] = await peers();
    assert.equal(peer!.name, 'laptop');
    const priv = keep(file);
    const text = readFileSync(file, 'utf8');
    assert.equal(
      text,
      [
        '[Interface]',
        `PrivateKey = ${priv}`,
        `Address = ${peer!.address}/120`,
        `DNS = ${networkDnsAddress(acmeNet)}`,
        '',
        '[Peer]',
        `PublicKey = ${KEY_A}`,
        `AllowedIPs = ${networkPrefix(acmeNet)}`,
        'Endpoint = 198.51.100.7:51820',
        'PersistentKeepalive = 15',
        '',
      ].join('\n'),
    );
    assert.equal(networkDnsAddress(acmeNet), `fdaa:0:${acmeNet.toString(16)}::3`);
    // The address lives under the gateway host: machine field 0:<index>, suffix 2.
    const a = parseAddress(peer!.address)!;
    assert.deepEqual([a.networkId, a.hostId, a.machineField >>> 16, a.suffix], [acmeNet, gw.ams!.id, 0, 2]);
    // The file's private key is the registered public key's other half.
    assert.equal(publicKeyOf(priv), peer!.public_key);
    const stock = wgPubkey(priv);
    if (stock !== null) assert.equal(stock, peer!.public_key, 'wg pubkey agrees');
    assert.match(r.stdout, /^peer\s+laptop$/m);
    assert.match(r.stdout, /wg-quick up .*laptop\.conf/);
    // The proxy saw the public key go by, and the private key nowhere.
    const post = proxy.requests.find((q) => q.method === 'POST' && q.url === '/v1/orgs/acme/peers')!;
    assert.equal(JSON.parse(post.body).public_key, peer!.public_key);
    assert.deepEqual(Object.keys(JSON.parse(post.body)).sort(), ['name', 'public_key', 'region']);
  });

  it('refuses to overwrite FILE without --force; with --force it replaces it (still 0600)', async () => {
    const file = f('laptop.conf');
    const before = readFileSync(file, 'utf8');
    const r = await wg('create', 'acme', 'ams', 'phone', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, ONE_LINE);
    assert.match(r.stderr, /already exists \(use --force to overwrite\)/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.deepEqual(
      (await peers()).map((p) => p.name),
      ['laptop'],
      'nothing registered',
    );

    const other = f('other.conf');
    writeFileSync(other, 'old contents\n');
    chmodSync(other, 0o644);
    const forced = await wg('create', 'acme', 'ams', 'phone', other, '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(statSync(other).mode & 0o777, 0o600);
    assert.match(readFileSync(other, 'utf8'), /^\[Interface\]\nPrivateKey = /);
    keep(other);
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp files left',
    );
  });

  it('FILE in a missing directory: exit 1 and no peer registered', async () => {
    const n = proxy.requests.length;
    const r = await wg('create', 'acme', 'ams', 'lost', join(dir.path, 'no', 'such', 'dir', 'lost.conf'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, ONE_LINE);
    assert.match(r.stderr, /directory .*no\/such\/dir does not exist/);
    assert.equal(proxy.requests.length, n, 'the API was never called');
    assert.ok(!(await peers()).some((p) => p.name === 'lost'));
  });

  it('FILE that cannot be written after registering: the peer is removed again, exit 1', async () => {
    // /proc exists as a directory but takes no new files, even for root.
    const r = await wg('create', 'acme', 'ams', 'ghost', '/proc/sixpn-ghost.conf');
    assert.equal(r.code, 1);
    assert.match(r.stderr, ONE_LINE);
    assert.match(r.stderr, /cannot write \/proc\/sixpn-ghost\.conf: \w+; peer not created/);
    const calls = proxy.requests.filter((q) => q.url === '/v1/orgs/acme/peers/ghost' || (q.method === 'POST' && q.body.includes('"ghost"')));
    assert.deepEqual(
      calls.map((q) => q.method),
      ['POST', 'DELETE'],
    );
    assert.ok(!(await peers()).some((p) => p.name === 'ghost'));
  });

  const usage: { args: string[]; msg: RegExp }[] = [
    { args: ['create', 'acme', 'ams', 'a-name-of-16-chr'], msg: /longer than 15 characters/ },
    { args: ['create', 'acme', 'ams', 'Not_A_Label'], msg: /peer name "Not_A_Label" is not a DNS label/ },
    { args: ['create', 'acme', 'ams', '-lead'], msg: /./ },
    { args: ['create', 'acme', 'ams'], msg: /missing argument/ },
    { args: ['create', 'Acme!', 'ams', 'x'], msg: /org "Acme!" is not a DNS label/ },
    { args: ['frob', 'acme'], msg: /unknown wireguard command "frob"/ },
    { args: ['remove', 'acme'], msg: /missing argument/ },
  ];
  for (const u of usage) {
    it(`usage error, exit 2, nothing sent: wireguard ${u.args.join(' ')}`, async () => {
      const n = proxy.requests.length;
      const r = await wg(...u.args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, u.msg);
      assert.equal(proxy.requests.length, n);
    });
  }

  const failures: { what: string; args: string[]; msg: RegExp }[] = [
    { what: 'unknown org', args: ['create', 'nosuch', 'ams', 'x', 'x.conf'], msg: /^sixpn wireguard: org "nosuch" not found \(not_found\)\n$/ },
    { what: 'unknown region', args: ['create', 'acme', 'zzz', 'x', 'x.conf'], msg: /^sixpn wireguard: unknown region "zzz" \(invalid\)\n$/ },
    {
      what: 'region without a gateway',
      args: ['create', 'acme', 'lhr', 'x', 'x.conf'],
      msg: /^sixpn wireguard: no gateway in region lhr; nearest gateways: ams, fra \(no_gateway\)\n$/,
    },
    {
      what: 'region with a host but no gateway',
      args: ['create', 'acme', 'syd', 'x', 'x.conf'],
      msg: /^sixpn wireguard: no gateway in region syd; nearest gateways: (ams, fra|fra, ams) \(no_gateway\)\n$/,
    },
    { what: 'unknown network', args: ['create', 'acme', 'ams', 'x', 'x.conf', '--network', 'nosuch'], msg: /network "acme\/nosuch" not found/ },
    { what: 'an app of another org', args: ['create', 'acme', 'ams', 'x', 'x.conf', '--app', 'evil'], msg: /app "evil" not found/ },
    {
      what: 'app outside --network',
      args: ['create', 'acme', 'ams', 'x', 'x.conf', '--app', 'web', '--network', 'backend'],
      msg: /app web is not in network acme\/backend/,
    },
  ];
  for (const e of failures) {
    it(`${e.what}: exit 1 with one line, no file, no peer`, async () => {
      const r = await wg(...e.args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, ONE_LINE);
      assert.match(r.stderr, e.msg);
      assert.ok(!existsSync(f('x.conf')));
      assert.ok(!(await peers()).some((p) => p.name === 'x'));
    });
  }

  it('duplicate name: exit 1, and the existing file is untouched (even with --force)', async () => {
    const file = f('laptop.conf');
    const before = readFileSync(file, 'utf8');
    const elsewhere = await wg('create', 'acme', 'fra', 'laptop', f('dup.conf'));
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, ONE_LINE);
    assert.match(elsewhere.stderr, /already exists/);
    assert.ok(!existsSync(f('dup.conf')));
    const forced = await wg('create', 'acme', 'ams', 'laptop', file, '--force');
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, /already exists \(conflict\)/);
    assert.equal(readFileSync(file, 'utf8'), before, 'the working config survived');
    // The same name in another org is another peer.
    const other = await wg('create', 'globex', 'ams', 'laptop', f('globex-laptop.conf'));
    assert.equal(other.code, 0, other.stderr);
    keep(f('globex-laptop.conf'));
  });

  it("--network and --app: the peer joins that network (address, DNS, AllowedIPs); --app alone takes the app's network", async () => {
    const r = await wg('create', 'acme', 'fra', 'backend-dev', f('backend.conf'), '--network', 'backend', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { peer: Peer; gateway: { region: string; public_key: string } };
    assert.equal(out.gateway.region, 'fra');
    const conf = parseWgQuick(readFileSync(f('backend.conf'), 'utf8'));
    keep(f('backend.conf'));
    assert.equal(parseAddress(out.peer.address)!.networkId, backendNet);
    assert.equal(conf.Interface!.DNS, networkDnsAddress(backendNet));
    assert.equal(conf.Peer!.AllowedIPs, networkPrefix(backendNet));
    assert.equal(conf.Peer!.PublicKey, KEY_B);

    const app = await wg('create', 'acme', 'ams', 'db-node', f('db-node.conf'), '--app', 'db', '--json');
    assert.equal(app.code, 0, app.stderr);
    const ap = JSON.parse(app.stdout) as { peer: Peer };
    keep(f('db-node.conf'));
    assert.equal(ap.peer.app, 'db');
    assert.equal(ap.peer.network_id, backendNet);
  });

  it('--qr prints the config as a terminal QR code (and puts it in --json)', async () => {
    const r = await wg('create', 'acme', 'ams', 'phone2', f('phone2.conf'), '--qr');
    assert.equal(r.code, 0, r.stderr);
    keep(f('phone2.conf'));
    // Strip the colours; what is left are rows of half-height blocks.
    const qr = r.stdout
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((l) => /[█▀▄]/.test(l));
    assert.ok(qr.length > 20, `expected a QR code, got:\n${r.stdout}`);
    // A square of half-height blocks: every row the same width.
    assert.equal(new Set(qr.map((l) => [...l].length)).size, 1);
    const j = await wg('create', 'acme', 'ams', 'phone3', f('phone3.conf'), '--qr', '--json');
    assert.equal(j.code, 0, j.stderr);
    keep(f('phone3.conf'));
    assert.match((JSON.parse(j.stdout) as { qr: string }).qr, /[█▀▄]/);
  });

  it('a default FILE goes to ./peers/<name>.conf (the directory made if missing)', async () => {
    const cwd = f('project');
    mkdirSync(cwd);
    const r = await run(cwd, c.admin, 'create', 'acme', 'ams', 'dflt');
    assert.equal(r.code, 0, r.stderr);
    const file = join(cwd, 'peers', 'dflt.conf');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    keep(file);
    assert.match(r.stdout, /wg-quick up .*peers\/dflt\.conf/);
  });

  it('list, with and without --json', async () => {
    const human = await wg('list', 'acme');
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+REGION\s+ADDRESS\s+GATEWAY\s+APP\s+CREATED$/);
    const laptop = lines.find((l) => l.startsWith('laptop '))!;
    assert.match(laptop, /^laptop\s+ams\s+fdaa:\S+\s+198\.51\.100\.7:51820\s+-\s+\d{4}-/);
    assert.match(
      lines.find((l) => l.startsWith('db-node '))!,
      /\sdb\s/,
    );
    const j = await wg('list', 'acme', '--json');
    const list = JSON.parse(j.stdout) as (Peer & { gateway: string })[];
    assert.deepEqual(
      list.map((p) => p.name),
      ['backend-dev', 'db-node', 'dflt', 'laptop', 'phone', 'phone2', 'phone3'],
    );
    assert.equal(list.find((p) => p.name === 'backend-dev')!.gateway, '198.51.100.8:51820');
    const empty = await wg('list', 'globex');
    assert.match(empty.stdout, /^NAME .*\nlaptop /);
  });

  it('status: "never" until the gateway reports; then handshake, bytes and endpoint, with and without --json', async () => {
    const none = await wg('status', 'acme', 'laptop');
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /latest handshake\s+-/);
    assert.match(none.stdout, /reported\s+never/);
    const nj = JSON.parse((await wg('status', 'acme', 'laptop', '--json')).stdout) as { status: unknown };
    assert.equal(nj.status, null);

    // What the gateway's agent sends (PUT /v1/hosts/:id/peer-status with its own credential).
    const hs = Math.floor(Date.now() / 1000) - 3;
    const rep = await c.call(
      'PUT',
      `/v1/hosts/${gw.ams!.id}/peer-status`,
      { peers: [{ org: 'acme', name: 'laptop', latest_handshake: hs, rx_bytes: 1234, tx_bytes: 5678, endpoint: '203.0.113.5:40000' }] },
      gw.ams!.credential,
    );
    assert.equal(rep.status, 204, JSON.stringify(rep.json));
    // Another gateway cannot report for a peer it does not carry.
    await c.call(
      'PUT',
      `/v1/hosts/${gw.fra!.id}/peer-status`,
      { peers: [{ org: 'acme', name: 'laptop', latest_handshake: hs + 100, rx_bytes: 1, tx_bytes: 1, endpoint: null }] },
      gw.fra!.credential,
    );

    const s = await wg('status', 'acme', 'laptop');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`latest handshake\\s+${new Date(hs * 1000).toISOString().replace(/\./g, '\\.')} \\(\\d+ s ago\\)`));
    assert.match(s.stdout, /from peer\s+1234 B/);
    assert.match(s.stdout, /to peer\s+5678 B/);
    assert.match(s.stdout, /endpoint\s+203\.0\.113\.5:40000/);
    const sj = JSON.parse((await wg('status', 'acme', 'laptop', '--json')).stdout) as { peer: Peer; status: Record<string, unknown> };
    assert.equal(sj.peer.name, 'laptop');
    assert.deepEqual(
      { ...sj.status, reported_at: undefined },
      { latest_handshake: hs, rx_bytes: 1234, tx_bytes: 5678, endpoint: '203.0.113.5:40000', reported_at: undefined },
    );
  });

  it('remove, with and without --json; then status and remove are one-line errors', async () => {
    const r = await wg('remove', 'acme', 'phone2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^removed peer phone2 \(fdaa:[0-9a-f:]+\)\n$/);
    const j = await wg('remove', 'acme', 'phone3', '--json');
    assert.equal((JSON.parse(j.stdout) as Peer).name, 'phone3');
    for (const args of [
      ['status', 'acme', 'phone2'],
      ['remove', 'acme', 'phone2'],
    ]) {
      const e = await wg(...args);
      assert.equal(e.code, 1);
      assert.match(e.stderr, /^sixpn wireguard: peer "phone2" not found \(not_found\)\n$/);
    }
    assert.ok(!(await peers()).some((p) => p.name.startsWith('phone') && p.name !== 'phone'));
  });

  it('no private key ever reached the coordinator (every request the CLI made, headers included)', () => {
    assert.ok(privateKeys.length >= 8, `${privateKeys.length} keys checked`);
    const wire = JSON.stringify(proxy.requests);
    for (const k of privateKeys) {
      assert.ok(!wire.includes(k), 'a private key was sent to the API');
      assert.ok(!wire.includes(Buffer.from(k, 'base64').toString('hex')), 'a private key (hex) was sent to the API');
    }
    // …while every public key did go (the proxy really saw the traffic).
    const posted = proxy.requests.filter((q) => q.method === 'POST').map((q) => JSON.parse(q.body).public_key as string);
    for (const k of privateKeys) assert.ok(posted.includes(publicKeyOf(k)));
  });
});
