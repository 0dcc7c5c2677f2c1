import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { renderReplace, renderTable, tableName, type NftSpec } from '../../src/nft/render.js';

function spec(o: Partial<NftSpec> = {}): NftSpec {
  return {
    table: 'sixpn_wg0',
    wgIface: 'wg0',
    wgPort: 51820,
    prefix: 'fdaa::/16',
    networks: ['fdaa:0:18::/48', 'fdaa:0:19::/48'],
    attachments: [{ iface: 'sxf066b83b', address: 'fdaa:0:18:a7b:7d:f066:b83b:2' }],
    redirects: [{ port: 53, protocols: ['udp', 'tcp'], toPort: 5354 }],
    gateway: false,
    outsideFilter: true,
    openPorts: [],
    ...o,
  };
}

const has = (text: string, line: string): void =>
  assert.ok(
    text.split('\n').some((l) => l.trim() === line),
    `missing: ${line}\n${text}`,
  );
const lacks = (text: string, needle: string): void => assert.ok(!text.includes(needle), `unexpected: ${needle}`);

describe('nft render', () => {
  it('names the table after the interface, nft-safe', () => {
    assert.equal(tableName('sixpn0'), 'sixpn_sixpn0');
    assert.equal(tableName('wg-a.b'), 'sixpn_wg_a_b');
  });

  const rules: { name: string; spec: NftSpec; has: string[]; lacks?: string[] }[] = [
    {
      name: 'mesh interfaces are the device and the attachments',
      spec: spec(),
      has: ['elements = { "wg0", "sxf066b83b" }'],
    },
    {
      name: 'a machine may only use its own address (and link-local for ND)',
      spec: spec(),
      has: [
        'elements = { "sxf066b83b" . fdaa:0:18:a7b:7d:f066:b83b:2 }',
        'iifname @attachments meta nfproto ipv4 drop',
        'iifname @attachments ip6 saddr { fe80::/10, :: } accept',
        'iifname @attachments iifname . ip6 saddr != @attachment_src drop',
        'iifname != @mesh iifname != "lo" ip6 saddr fdaa::/16 drop',
      ],
    },
    {
      name: 'port 53 of any fdaa:*::3 goes to the local DNS server',
      spec: spec(),
      has: [
        'iifname @mesh ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdaa::3 udp dport 53 redirect to :5354',
        'iifname @mesh ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdaa::3 tcp dport 53 redirect to :5354',
      ],
    },
    {
      name: 'networks only talk within themselves',
      spec: spec(),
      has: [
        'ip6 saddr fdaa:0:18::/48 ip6 daddr fdaa:0:18::/48 return',
        'ip6 saddr fdaa:0:19::/48 ip6 daddr fdaa:0:19::/48 return',
        'counter drop',
        'iifname @mesh jump isolation',
      ],
      lacks: ['ip6 saddr fdaa:0:18::/48 ip6 daddr fdaa:0:19::/48'],
    },
    {
      name: 'a worker does not relay between WireGuard peers',
      spec: spec(),
      has: ['iifname "wg0" oifname "wg0" drop'],
    },
    {
      name: 'a gateway relays (isolation still applies)',
      spec: spec({ gateway: true }),
      has: ['iifname @mesh jump isolation'],
      lacks: ['iifname "wg0" oifname "wg0" drop'],
    },
    {
      name: 'outside: only the WireGuard port (and ICMP, replies, explicit ports)',
      spec: spec({ openPorts: [{ proto: 'tcp', port: 22 }] }),
      has: ['udp dport 51820 accept', 'tcp dport 22 accept', 'ct state established,related accept', 'drop'],
    },
    {
      name: 'without the outside filter the DNS port is still not reachable from outside',
      spec: spec({ outsideFilter: false }),
      has: ['meta l4proto { tcp, udp } th dport 5354 drop'],
      lacks: ['udp dport 51820 accept'],
    },
    {
      name: 'empty host: device only, no networks',
      spec: spec({ attachments: [], networks: [] }),
      has: ['elements = { "wg0" }', 'counter drop', 'type ifname . ipv6_addr'],
      lacks: ['sxf066b83b'],
    },
    {
      name: 'the machine API redirect is for attachments only, never WireGuard peers',
      spec: spec({
        redirects: [
          { port: 53, protocols: ['udp', 'tcp'], toPort: 5354 },
          { port: 80, protocols: ['tcp'], toPort: 4281, from: 'attachments' },
        ],
      }),
      has: [
        'iifname @attachments ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdaa::3 tcp dport 80 redirect to :4281',
        'iifname @mesh ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdaa::3 udp dport 53 redirect to :5354',
      ],
      lacks: ['iifname @mesh ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdaa::3 tcp dport 80'],
    },
    {
      name: "a machine reaches neither the host's own ports nor anything outside the mesh",
      spec: spec(),
      has: ['iifname @mesh oifname != @mesh drop', 'iifname != @mesh oifname @mesh drop', 'iifname @mesh meta l4proto ipv6-icmp accept', 'iifname @mesh drop'],
    },
    {
      name: 'another ULA prefix',
      spec: spec({ prefix: 'fdab::/16', networks: ['fdab:0:1::/48'] }),
      has: ['iifname @mesh ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == fdab::3 udp dport 53 redirect to :5354'],
    },
  ];
  for (const c of rules) {
    it(c.name, () => {
      const text = renderTable(c.spec).replace(/ffff::ffff:ffff:ffff:ffff:ffff/g, 'ffff:0:0:ffff:ffff:ffff:ffff:ffff');
      for (const l of c.has) has(text, l);
      for (const l of c.lacks ?? []) lacks(text, l);
    });
  }

  it('is deterministic (the agent compares texts to skip no-op applies)', () => {
    const a = spec({ networks: ['fdaa:0:19::/48', 'fdaa:0:18::/48', 'fdaa:0:18::/48'] });
    assert.equal(renderTable(a), renderTable(spec()));
  });

  it('replaces atomically: ensure, delete, recreate in one script', () => {
    const lines = renderReplace(spec()).split('\n');
    assert.equal(lines[0], 'table inet sixpn_wg0');
    assert.equal(lines[1], 'delete table inet sixpn_wg0');
    assert.equal(lines[2], 'table inet sixpn_wg0 {');
  });

  it('is accepted by nft (in a scratch namespace, as root)', function () {
    if (process.getuid?.() !== 0) this.skip();
    const ns = `sixpn-nfttest-${randomBytes(3).toString('hex')}`;
    try {
      execFileSync('ip', ['netns', 'add', ns]);
    } catch {
      this.skip();
    }
    try {
      for (const s of [
        spec(),
        spec({ gateway: true, outsideFilter: false, redirects: [{ port: 80, protocols: ['tcp'], toPort: 4281, from: 'attachments' }] }),
        spec({ attachments: [], networks: [], openPorts: [{ proto: 'udp', port: 1 }] }),
      ]) {
        execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: renderReplace(s) });
        execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: renderReplace(s) }); // re-apply over itself
      }
      const listed = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables']).toString();
      assert.match(listed, /table inet sixpn_wg0/);
    } finally {
      execFileSync('ip', ['netns', 'delete', ns]);
    }
  });
});
