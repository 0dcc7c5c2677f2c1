import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { batchArgs, changeArgs, diffPeers, normalizeEndpoint, ROAM_GRACE_S, type DesiredPeer, type PeerChange } from '../../src/wg/diff.js';
import { parseDump, type WgPeerInfo } from '../../src/wg/dump.js';
import { generateKeyPair, isKey, publicKeyOf } from '../../src/wg/keys.js';

const K = (c: string): string => `${c.repeat(43)}=`;
const A = K('A'),
  B = K('B'),
  C = K('C'),
  D = K('D');
const NOW = 1_800_000_000;

function have(key: string, o: Partial<WgPeerInfo> = {}): WgPeerInfo {
  return { publicKey: key, presharedKey: null, endpoint: null, allowedIps: [], latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: 0, ...o };
}
function want(key: string, o: Partial<DesiredPeer> = {}): DesiredPeer {
  return { publicKey: key, endpoint: null, allowedIps: [], keepalive: 0, ...o };
}

describe('wg dump parser', () => {
  it('parses the device line and peers', () => {
    const text = [
      'cHJpdmF0ZWtleXByaXZhdGVrZXlwcml2YXRla2V5cHI=\tcHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHVibGk=\t51820\toff',
      `${A}\t(none)\t10.9.0.2:51820\tfdaa:0:1:0:2::/80,fdaa:0:5:0:2::/80\t1795687572\t6290652\t313815092\toff`,
      `${B}\t(none)\t[fd00::2]:51820\t(none)\t0\t0\t0\t25`,
      '',
    ].join('\n');
    const d = parseDump(text);
    assert.equal(d.device.listenPort, 51820);
    assert.equal(d.device.fwmark, null);
    assert.equal(d.peers.length, 2);
    assert.deepEqual(d.peers[0], {
      publicKey: A,
      presharedKey: null,
      endpoint: '10.9.0.2:51820',
      allowedIps: ['fdaa:0:1:0:2::/80', 'fdaa:0:5:0:2::/80'],
      latestHandshake: 1795687572,
      rxBytes: 6290652,
      txBytes: 313815092,
      keepalive: 0,
    });
    assert.deepEqual(d.peers[1]!.allowedIps, []);
    assert.equal(d.peers[1]!.keepalive, 25);
    assert.equal(d.peers[1]!.endpoint, '[fd00::2]:51820');
  });
  it('reports an unset private key as null', () => {
    assert.equal(parseDump('(none)\t(none)\t0\toff\n').device.privateKey, null);
  });
  it('rejects garbage', () => {
    assert.throws(() => parseDump(''));
    assert.throws(() => parseDump('a\tb\n'));
  });
});

describe('wg peer diff', () => {
  const cases: { name: string; desired: DesiredPeer[]; actual: WgPeerInfo[]; want: PeerChange[] }[] = [
    { name: 'nothing to do', desired: [], actual: [], want: [] },
    {
      name: 'converged set is a no-op',
      desired: [want(A, { endpoint: '10.0.0.1:51820', allowedIps: ['fdaa:0:1:0:1::/80'] })],
      actual: [have(A, { endpoint: '10.0.0.1:51820', allowedIps: ['fdaa:0:1:0:1::/80'], latestHandshake: NOW - 10 })],
      want: [],
    },
    {
      name: 'adds a new peer with everything',
      desired: [want(A, { endpoint: '10.0.0.1:51820', allowedIps: ['fdaa:0:1:0:1::/80'], keepalive: 25 })],
      actual: [],
      want: [{ kind: 'add', peer: { publicKey: A, endpoint: '10.0.0.1:51820', allowedIps: ['fdaa:0:1:0:1::/80'], keepalive: 25 } }],
    },
    {
      name: 'one host joining is one add, existing peers untouched',
      desired: [want(A, { endpoint: '10.0.0.1:1', allowedIps: ['fdaa:0:1:0:1::/80'] }), want(B, { endpoint: '10.0.0.2:1' })],
      actual: [have(A, { endpoint: '10.0.0.1:1', allowedIps: ['fdaa:0:1:0:1::/80'], latestHandshake: NOW - 5 })],
      want: [{ kind: 'add', peer: { publicKey: B, endpoint: '10.0.0.2:1', allowedIps: [], keepalive: 0 } }],
    },
    { name: 'removes a peer that left', desired: [], actual: [have(A)], want: [{ kind: 'remove', publicKey: A }] },
    {
      name: 'allowed IPs compare as sets of canonical CIDRs',
      desired: [want(A, { allowedIps: ['FDAA:0:2:0:1:0:0:0/80', 'fdaa:0:1:0:1::/80'] })],
      actual: [have(A, { allowedIps: ['fdaa:0:1:0:1::/80', 'fdaa:0:2:0:1::/80'] })],
      want: [],
    },
    {
      name: 'a new network on a host replaces its allowed IPs only',
      desired: [want(A, { endpoint: '10.0.0.1:1', allowedIps: ['fdaa:0:1:0:1::/80', 'fdaa:0:2:0:1::/80'] })],
      actual: [have(A, { endpoint: '10.0.0.1:1', allowedIps: ['fdaa:0:1:0:1::/80'] })],
      want: [{ kind: 'update', publicKey: A, allowedIps: ['fdaa:0:1:0:1::/80', 'fdaa:0:2:0:1::/80'] }],
    },
    {
      name: 'clearing allowed IPs',
      desired: [want(A)],
      actual: [have(A, { allowedIps: ['fdaa:0:1:0:1::/80'] })],
      want: [{ kind: 'update', publicKey: A, allowedIps: [] }],
    },
    {
      name: 'endpoint moved, no recent handshake: set it',
      desired: [want(A, { endpoint: '10.0.0.9:51820' })],
      actual: [have(A, { endpoint: '10.0.0.1:51820', latestHandshake: NOW - ROAM_GRACE_S - 1 })],
      want: [{ kind: 'update', publicKey: A, endpoint: '10.0.0.9:51820' }],
    },
    {
      name: 'endpoint differs but the session is fresh (peer roamed): leave it',
      desired: [want(A, { endpoint: '10.0.0.9:51820' })],
      actual: [have(A, { endpoint: '10.0.0.1:51820', latestHandshake: NOW - 30 })],
      want: [],
    },
    {
      name: 'IPv6 endpoints compare canonically',
      desired: [want(A, { endpoint: '[FD00:0::2]:51820' })],
      actual: [have(A, { endpoint: '[fd00::2]:51820' })],
      want: [],
    },
    {
      name: 'a DNS-name endpoint only fills a missing one',
      desired: [want(A, { endpoint: 'host-a.example:51820' }), want(B, { endpoint: 'host-b.example:51820' })],
      actual: [have(A, { endpoint: '192.0.2.1:51820' }), have(B)],
      want: [{ kind: 'update', publicKey: B, endpoint: 'host-b.example:51820' }],
    },
    {
      name: 'roaming peers (no endpoint wanted) keep what the device learned',
      desired: [want(A, { allowedIps: ['fdaa:0:1:0:1:0:1:2/128'] })],
      actual: [have(A, { endpoint: '198.51.100.7:40000', allowedIps: ['fdaa:0:1:0:1:0:1:2/128'] })],
      want: [],
    },
    {
      name: 'keepalive change',
      desired: [want(A, { keepalive: 15 })],
      actual: [have(A, { keepalive: 0 })],
      want: [{ kind: 'update', publicKey: A, keepalive: 15 }],
    },
    {
      name: 'removes first, then updates, then adds (sorted by key)',
      desired: [want(D), want(C, { allowedIps: ['fdaa:0:1:0:1::/80'] }), want(B)],
      actual: [have(A, { allowedIps: ['fdaa:0:1:0:1::/80'] }), have(B)],
      want: [
        { kind: 'remove', publicKey: A },
        { kind: 'add', peer: { publicKey: C, endpoint: null, allowedIps: ['fdaa:0:1:0:1::/80'], keepalive: 0 } },
        { kind: 'add', peer: { publicKey: D, endpoint: null, allowedIps: [], keepalive: 0 } },
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(diffPeers(c.desired, c.actual, NOW), c.want));
});

describe('wg set arguments', () => {
  it('renders each kind of change', () => {
    assert.deepEqual(changeArgs({ kind: 'remove', publicKey: A }), ['peer', A, 'remove']);
    assert.deepEqual(changeArgs({ kind: 'add', peer: { publicKey: A, endpoint: '10.0.0.1:1', allowedIps: ['fdaa::/16', 'fd00::/8'], keepalive: 25 } }), [
      'peer',
      A,
      'endpoint',
      '10.0.0.1:1',
      'persistent-keepalive',
      '25',
      'allowed-ips',
      'fdaa::/16,fd00::/8',
    ]);
    assert.deepEqual(changeArgs({ kind: 'add', peer: { publicKey: A, endpoint: null, allowedIps: [], keepalive: 0 } }), ['peer', A]);
    assert.deepEqual(changeArgs({ kind: 'update', publicKey: A, allowedIps: [] }), ['peer', A, 'allowed-ips', '']);
    assert.deepEqual(changeArgs({ kind: 'update', publicKey: A, keepalive: 0 }), ['peer', A, 'persistent-keepalive', 'off']);
  });
  it('batches large sets', () => {
    const changes: PeerChange[] = Array.from({ length: 1001 }, (_, i) => ({ kind: 'remove', publicKey: `k${i}` }));
    const b = batchArgs(changes, 250);
    assert.equal(b.length, 5);
    assert.equal(b[0]!.length, 750);
    assert.equal(b[4]!.length, 3);
  });
  it('normalizes endpoints', () => {
    assert.deepEqual(normalizeEndpoint('[FDAA:0::1]:51820'), { text: '[fdaa::1]:51820', literal: true });
    assert.deepEqual(normalizeEndpoint('10.0.0.1:1'), { text: '10.0.0.1:1', literal: true });
    assert.deepEqual(normalizeEndpoint('Host.Example:1'), { text: 'host.example:1', literal: false });
  });
});

describe('wg keys', () => {
  it('derives the public key as `wg pubkey` does', function () {
    const k = generateKeyPair();
    assert.ok(isKey(k.privateKey) && isKey(k.publicKey));
    assert.equal(publicKeyOf(k.privateKey), k.publicKey);
    let wgOut: string;
    try {
      wgOut = execFileSync('wg', ['pubkey'], { input: `${k.privateKey}\n` })
        .toString()
        .trim();
    } catch {
      this.skip();
      return;
    }
    assert.equal(wgOut, k.publicKey);
  });
  it('agrees with `wg genkey` output', function () {
    let priv: string;
    try {
      priv = execFileSync('wg', ['genkey']).toString().trim();
    } catch {
      this.skip();
      return;
    }
    assert.equal(
      publicKeyOf(priv),
      execFileSync('wg', ['pubkey'], { input: `${priv}\n` })
        .toString()
        .trim(),
    );
  });
  it('private keys are clamped like `wg genkey`', () => {
    const raw = Buffer.from(generateKeyPair().privateKey, 'base64');
    assert.equal(raw[0]! & 7, 0);
    assert.equal(raw[31]! & 0xc0, 0x40);
  });
  it('rejects malformed keys', () => {
    assert.equal(isKey('abc'), false);
    assert.throws(() => publicKeyOf('abc'));
  });
});
