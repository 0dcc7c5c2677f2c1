// A rogue (or intercepted) API answering `sixpn wireguard create`: every
// field of the answer goes into a wg-quick file that `wg-quick up` runs as
// root, so a newline in `dns` would add a `PostUp =` line. The CLI must refuse
// with a clear error and write no file. Also: the CLI warns on stderr when it
// sends a token over plain HTTP to a non-loopback API. A tiny local HTTP
// server plays the API; no traffic leaves the machine.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { KEY_A } from '../../testkit/coordinator.js';
import { runCliIn } from '../../testkit/peers.js';
import { tempDir } from '../../testkit/tmp.js';

type Answer = Record<string, any>;

function goodAnswer(): Answer {
  return {
    peer: {
      org: 'acme',
      name: 'laptop',
      region: 'ams',
      address: 'fdaa:0:1:0:1:100::2',
      network_id: 1,
      host_id: 1,
      public_key: KEY_A,
      app: null,
      created_at: '2026-01-01T00:00:00Z',
    },
    gateway: { host_id: 1, public_key: KEY_A, endpoint: '198.51.100.7:51820', region: 'ams' },
    dns: 'fdaa:0:1::3',
    allowed_ips: 'fdaa:0:1::/48',
  };
}

interface Rogue {
  url: (host?: string) => string;
  requests: string[];
  answer: Answer;
  close(): Promise<void>;
}

async function rogueApi(host: string): Promise<Rogue> {
  const requests: string[] = [];
  const r: Partial<Rogue> = { requests, answer: goodAnswer() };
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(r.answer));
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ peer: r.answer!.peer }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  r.url = (h = host) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return r as Rogue;
}

/** An address of this machine that is not loopback (traffic to it stays on the machine). */
function localNonLoopback(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return null;
}

describe('sixpn wireguard create against a rogue API', function () {
  this.timeout(30_000);
  const dir = tempDir('sixpn-rogue-');
  const env = { SIXPN_CONFIG: join(dir.path, 'no-such-cli.json'), HOME: dir.path };
  let api: Rogue;
  const create = (file: string, url = api.url()) =>
    runCliIn(dir.path, ['wireguard', 'create', 'acme', 'ams', 'laptop', file, '--api', url, '--token', 'tok'], env);

  before(async () => {
    api = await rogueApi('127.0.0.1');
  });
  after(async () => {
    await api?.close();
    dir.remove();
  });

  it('a good answer is written (the control case), with no plain-HTTP warning on loopback', async () => {
    api.answer = goodAnswer();
    const file = join(dir.path, 'good.conf');
    const r = await create(file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(existsSync(file));
  });

  const rogue: [string, (a: Answer) => void, RegExp][] = [
    [
      'dns with a PostUp line',
      (a) => {
        a.dns = 'fdaa::3\nPostUp = touch /tmp/pwned';
      },
      /answer\.dns contains a control character/,
    ],
    [
      'a carriage return in the endpoint',
      (a) => {
        a.gateway.endpoint = '198.51.100.7:51820\rPostUp = id';
      },
      /answer\.gateway\.endpoint contains a control character/,
    ],
    [
      'a newline in a printed-only field',
      (a) => {
        a.gateway.region = 'ams\n\u001b[2J';
      },
      /answer\.gateway\.region contains a control character/,
    ],
    [
      'a public key that is not 32 bytes',
      (a) => {
        a.gateway.public_key = 'AAAA';
      },
      /gateway\.public_key "AAAA" is not a WireGuard key/,
    ],
    [
      'an endpoint that is not HOST:PORT',
      (a) => {
        a.gateway.endpoint = 'evil.example.com';
      },
      /gateway\.endpoint "evil\.example\.com" is not HOST:PORT/,
    ],
    [
      'an address outside fdaa::/16',
      (a) => {
        a.peer.address = '2001:db8::1';
      },
      /peer\.address "2001:db8::1" is not an address inside fdaa::\/16/,
    ],
    [
      'a DNS server outside fdaa::/16',
      (a) => {
        a.dns = '8.8.8.8';
      },
      /dns "8\.8\.8\.8" is not a DNS server address inside fdaa::\/16/,
    ],
    [
      'allowed IPs that route everything',
      (a) => {
        a.allowed_ips = '::/0';
      },
      /allowed_ips entry "::\/0" is not a prefix inside fdaa::\/16/,
    ],
    [
      'allowed IPs with a second, outside prefix',
      (a) => {
        a.allowed_ips = 'fdaa:0:1::/48, 0.0.0.0/0';
      },
      /allowed_ips entry "0\.0\.0\.0\/0"/,
    ],
    [
      'a DNS field that is not a string',
      (a) => {
        a.dns = ['fdaa::3'];
      },
      /dns \["fdaa::3"\] is not a DNS server address/,
    ],
  ];
  for (const [what, spoil, why] of rogue) {
    it(`refuses ${what}: exit 1, one clear line, no file, the peer removed again`, async () => {
      api.answer = goodAnswer();
      spoil(api.answer);
      api.requests.length = 0;
      const before = readdirSync(dir.path);
      const file = join(dir.path, 'laptop.conf');
      const r = await create(file);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^sixpn wireguard: the API's answer is not a valid peer config, no file written: [^\n]+\n$/);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '');
      assert.ok(!existsSync(file));
      assert.deepEqual(readdirSync(dir.path), before, 'no file (not even a temp file) written');
      assert.ok(!existsSync('/tmp/pwned'));
      assert.deepEqual(api.requests, ['POST /v1/orgs/acme/peers', 'DELETE /v1/orgs/acme/peers/laptop']);
    });
  }

  it('warns on stderr when it sends a token over plain HTTP to a non-loopback API', async function () {
    const ip = localNonLoopback();
    if (!ip) this.skip();
    const remote = await rogueApi(ip!);
    try {
      const file = join(dir.path, 'remote.conf');
      const r = await create(file, remote.url());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr,
        `sixpn: warning: sending a token over plain HTTP to ${ip}:${new URL(remote.url()).port}: anyone on the path can read it; use an https:// API URL\n`,
      );
      assert.ok(existsSync(file));
    } finally {
      await remote.close();
    }
  });

  it('does not warn for loopback names and addresses', async () => {
    api.answer = goodAnswer();
    for (const [i, host] of ['localhost', '127.0.0.1'].entries()) {
      const r = await create(join(dir.path, `lo${i}.conf`), api.url(host));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
    }
  });
});
