// The agent's one nftables table, rendered from desired state. Pure: the
// whole table is text built from a spec, so it is table-tested and applied
// atomically (delete + recreate in one `nft -f` transaction).
//
// "mesh" interfaces are the WireGuard device and the machines' attachments;
// everything else is "outside".
import { parseCidr } from '../netlink/ip.js';

export interface NftAttachment {
  /** host-side interface of the machine (veth, tap…) */
  iface: string;
  /** the only source address the machine may use */
  address: string;
}

export interface NftRedirect {
  /** destination port on fdaa:*::3 */
  port: number;
  protocols: ('udp' | 'tcp')[];
  /** local port the service listens on */
  toPort: number;
  /**
   * Who may reach it: `mesh` (WireGuard and attachments: DNS, also for
   * developer peers) or `attachments` (this host's machines only: the machine
   * API, whose callers are identified by an attachment-checked source).
   */
  from?: 'mesh' | 'attachments';
}

export interface NftSpec {
  table: string;
  wgIface: string;
  wgPort: number;
  /** the ULA prefix, e.g. fdaa::/16 */
  prefix: string;
  /** /48s of the networks present on this host (machines or peers) */
  networks: string[];
  attachments: NftAttachment[];
  /** services answered locally for every fdaa:N:N::3 (DNS on 53) */
  redirects: NftRedirect[];
  /** carries developer peers: forwards between WireGuard peers (same network only) */
  gateway: boolean;
  /** drop everything from outside except the WireGuard port (and openPorts) */
  outsideFilter: boolean;
  openPorts: { proto: 'tcp' | 'udp'; port: number }[];
}

/** Table name for an interface: one table per agent, and nft-safe. */
export function tableName(iface: string): string {
  return `sixpn_${iface.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

const q = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

// An attachment's `"iface" . address` element, made once per attachment object: the planner
// hands out the same objects while a machine is unchanged, so a host with 10,000 machines does
// not parse 10,000 addresses again when one of them changes.
const srcElements = new WeakMap<NftAttachment, string>();
function srcElement(a: NftAttachment): string {
  let e = srcElements.get(a);
  if (e === undefined) srcElements.set(a, (e = `${q(a.iface)} . ${parseCidr(a.address).ip}`));
  return e;
}

function dnsMatch(prefix: string): string {
  // fdaa:N:N::3 for any N: keep the first 16 bits and the last 80, compare.
  const p = parseCidr(prefix);
  const first = p.ip.split(':')[0] || '0';
  return `ip6 daddr & ffff:0:0:ffff:ffff:ffff:ffff:ffff == ${first}::3`;
}

function set(items: string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

export function renderTable(s: NftSpec): string {
  const prefix = `${parseCidr(s.prefix).ip}/${parseCidr(s.prefix).len}`;
  const mesh = [s.wgIface, ...s.attachments.map((a) => a.iface)];
  const nets = [
    ...new Set(
      s.networks.map((n) => {
        const c = parseCidr(n);
        return `${c.ip}/${c.len}`;
      }),
    ),
  ].sort();
  const L: string[] = [];
  const add = (indent: number, line: string): void => {
    L.push(`${'  '.repeat(indent)}${line}`);
  };

  const attached = [...s.attachments].sort((a, b) => (a.iface < b.iface ? -1 : 1));
  const namedSet = (name: string, type: string, elements: string[]): void => {
    add(1, `set ${name} {`);
    add(2, `type ${type}`);
    if (elements.length) add(2, `elements = { ${elements.join(', ')} }`);
    add(1, '}');
  };

  add(0, `table inet ${s.table} {`);
  namedSet('mesh', 'ifname', mesh.map(q));
  namedSet(
    'attachments',
    'ifname',
    attached.map((a) => q(a.iface)),
  );
  // (attachment, its machine's address): one hash lookup per packet, however many machines.
  namedSet('attachment_src', 'ifname . ipv6_addr', attached.map(srcElement));

  // Source checks before conntrack and NAT see the packet.
  add(1, 'chain pre_spoof {');
  add(2, 'type filter hook prerouting priority raw; policy accept;');
  add(2, 'iifname @attachments meta nfproto ipv4 drop');
  // Link-local and unspecified sources: neighbour discovery on the veth itself.
  add(2, 'iifname @attachments ip6 saddr { fe80::/10, :: } accept');
  add(2, 'iifname @attachments iifname . ip6 saddr != @attachment_src drop');
  // Mesh addresses arrive only through the mesh (WireGuard checks the peer's allowed IPs).
  add(2, `iifname != @mesh iifname != "lo" ip6 saddr ${prefix} drop`);
  add(1, '}');

  add(1, 'chain pre_nat {');
  add(2, 'type nat hook prerouting priority dstnat; policy accept;');
  for (const r of s.redirects) {
    const from = r.from === 'attachments' ? '@attachments' : '@mesh';
    for (const proto of r.protocols) add(2, `iifname ${from} ${dnsMatch(prefix)} ${proto} dport ${r.port} redirect to :${r.toPort}`);
  }
  add(1, '}');

  // Two different networks never talk: same-/48 or nothing, for fdaa traffic.
  add(1, 'chain isolation {');
  add(2, `ip6 saddr != ${prefix} ip6 daddr != ${prefix} return`);
  add(2, 'ip6 saddr fe80::/10 return');
  add(2, 'ip6 daddr { fe80::/10, ff00::/8 } return');
  for (const n of nets) add(2, `ip6 saddr ${n} ip6 daddr ${n} return`);
  add(2, 'counter drop');
  add(1, '}');

  add(1, 'chain forward_mesh {');
  add(2, 'type filter hook forward priority filter; policy accept;');
  add(2, 'iifname @mesh oifname != @mesh drop');
  add(2, 'iifname != @mesh oifname @mesh drop');
  if (!s.gateway) add(2, `iifname ${q(s.wgIface)} oifname ${q(s.wgIface)} drop`);
  add(2, 'iifname @mesh jump isolation');
  add(1, '}');

  add(1, 'chain input_host {');
  add(2, 'type filter hook input priority filter; policy accept;');
  add(2, 'iif "lo" accept');
  add(2, 'ct state established,related accept');
  // Redirected service traffic (DNS to ::3) was already scoped to mesh interfaces.
  add(2, 'ct status dnat accept');
  add(2, 'iifname @mesh jump isolation');
  add(2, 'iifname @mesh meta l4proto ipv6-icmp accept');
  add(2, 'iifname @mesh drop');
  const local = [...new Set(s.redirects.map((r) => r.toPort))];
  if (s.outsideFilter) {
    add(2, `udp dport ${s.wgPort} accept`);
    add(2, 'meta l4proto { icmp, ipv6-icmp } accept');
    for (const p of s.openPorts) add(2, `${p.proto} dport ${p.port} accept`);
    add(2, 'drop');
  } else if (local.length) {
    // Even unfiltered, the local service ports are only for redirected traffic.
    add(2, `meta l4proto { tcp, udp } th dport ${set(local.map(String))} drop`);
  }
  add(1, '}');
  add(0, '}');
  return `${L.join('\n')}\n`;
}

/** One transaction: make sure the table exists, drop it, write it anew. */
export function renderReplace(s: NftSpec): string {
  return `table inet ${s.table}\ndelete table inet ${s.table}\n${renderTable(s)}`;
}
