// Typed wrapper over the `netlink` package's rtnetlink socket: links,
// addresses, routes. The only module (with wg/device.ts for the link kind)
// that speaks rtnetlink; the agent never shells out to `ip` on its own netns.
//
// A netlink socket acts on the network namespace of the process that opened
// it, so everything here applies to the agent's namespace. Links can be
// created *into* another namespace (IFLA_NET_NS_FD), but addresses and routes
// inside one need a process there (see src/netns/driver.ts).
import { FlagsNew, createRtNetlink, rt, type RtNetlinkSocket } from 'netlink';
import { bytesToIp, familyOf, ipToBytes, parseCidr } from './ip.js';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;
// rtattr / linkinfo numbers (linux/if_link.h, veth.h)
const IFLA_IFNAME = 3;
const IFLA_NET_NS_FD = 28;
const IFLA_MTU = 4;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;

export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  mtu: number;
  /** IFLA_INFO_KIND: veth, wireguard, bridge…; tun devices (wireguard-go) have "tun" */
  kind: string | null;
}

export interface AddrInfo {
  index: number;
  ip: string;
  prefixLen: number;
  family: 4 | 6;
}

export interface RouteInfo {
  /** canonical CIDR; "::/0" or "0.0.0.0/0" for a default route */
  dst: string;
  oif: number | null;
  gateway: string | null;
  table: number;
}

/** Error from the kernel with its errno name (EEXIST, ENODEV, EOPNOTSUPP…). */
export class NetlinkError extends Error {
  constructor(
    readonly code: string,
    readonly op: string,
  ) {
    super(`${op}: ${code}`);
    this.name = 'NetlinkError';
  }
}

function nla(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc(len + ((4 - (len % 4)) % 4));
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

/** Walk a flat run of rtattrs. */
function attrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

function kindOf(linkinfo: Buffer | undefined): string | null {
  if (!linkinfo) return null;
  const k = attrs(linkinfo).get(IFLA_INFO_KIND);
  return k ? k.toString('utf8').replace(/\0+$/, '') : null;
}

function translate(op: string, err: unknown): unknown {
  const m = /Request rejected: (\w+)/.exec(String((err as Error).message ?? err));
  return m ? new NetlinkError(m[1]!, op) : err;
}

export class Rtnl {
  private readonly sock: RtNetlinkSocket;
  // The netlink package reassembles one multipart (dump) reply at a time per
  // socket: concurrent requests would interleave, so they are queued.
  private queue: Promise<unknown> = Promise.resolve();

  /** the last error the socket reported (ENOBUFS…); requests in flight time out and fail on their own */
  lastError: Error | null = null;

  constructor(onError?: (err: Error) => void) {
    this.sock = createRtNetlink();
    // Without a listener an 'error' event is an uncaught exception.
    this.sock.socket.on('error', (err) => {
      this.lastError = err;
      onError?.(err);
    });
  }

  close(): void {
    this.sock.socket.close();
  }

  private wrap<T>(op: string, f: () => Promise<T>): Promise<T> {
    // A lost reply must not wedge the queue: requests give up after 10 s.
    const timed = (): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${op}: no netlink reply in 10 s`)), 10_000);
        f()
          .then(resolve, reject)
          .finally(() => clearTimeout(t));
      });
    const p = this.queue.then(timed, timed).catch((err: unknown) => {
      throw translate(op, err);
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  async links(): Promise<LinkInfo[]> {
    const msgs = await this.wrap('getLinks', () => this.sock.getLinks());
    return msgs.map((m) => ({
      index: m.data.index ?? 0,
      name: m.attrs.ifname ?? '',
      up: Boolean(m.data.flags?.up),
      mtu: m.attrs.mtu ?? 0,
      kind: kindOf(m.attrs.linkinfo),
    }));
  }

  async link(name: string): Promise<LinkInfo | null> {
    return (await this.links()).find((l) => l.name === name) ?? null;
  }

  async setLink(index: number, opts: { up?: boolean; mtu?: number }): Promise<void> {
    const data: rt.Link = { index };
    if (opts.up !== undefined) {
      data.flags = { up: opts.up || undefined } as rt.Link['flags'];
      data.change = { up: true };
    }
    await this.wrap('setLink', () => this.sock.setLink(data, opts.mtu !== undefined ? { mtu: opts.mtu } : {}));
  }

  async deleteLink(index: number): Promise<void> {
    await this.wrap('delLink', () => this.sock.delLink({ index }));
  }

  /** Create a link of a kind with no extra data (e.g. "wireguard", "dummy"). */
  async createLink(name: string, kind: string, mtu?: number): Promise<void> {
    const linkinfo = nla(IFLA_INFO_KIND, cstr(kind));
    await this.wrap(`newLink ${kind}`, () =>
      this.sock.newLink({}, { ifname: name, linkinfo, ...(mtu ? { mtu } : {}) }, { flags: FlagsNew.CREATE | FlagsNew.EXCL }),
    );
  }

  /**
   * Create a veth pair `name` ↔ `peerName`. With `peerNsFd` (an open fd of
   * /var/run/netns/X) the peer is born inside that namespace, so its name
   * cannot clash with ours and nothing has to be moved afterwards.
   */
  async createVeth(name: string, peerName: string, opts: { peerNsFd?: number; mtu?: number } = {}): Promise<void> {
    const peerAttrs = [nla(IFLA_IFNAME, cstr(peerName))];
    if (opts.peerNsFd !== undefined) peerAttrs.push(nla(IFLA_NET_NS_FD, u32(opts.peerNsFd)));
    if (opts.mtu) peerAttrs.push(nla(IFLA_MTU, u32(opts.mtu)));
    const peer = Buffer.concat([rt.formatLink({}), ...peerAttrs]);
    const linkinfo = Buffer.concat([nla(IFLA_INFO_KIND, cstr('veth')), nla(IFLA_INFO_DATA, nla(VETH_INFO_PEER, peer))]);
    await this.wrap('newLink veth', () =>
      this.sock.newLink({}, { ifname: name, linkinfo, ...(opts.mtu ? { mtu: opts.mtu } : {}) }, { flags: FlagsNew.CREATE | FlagsNew.EXCL }),
    );
  }

  /** Move a link into the namespace behind an open fd. */
  async moveToNetns(index: number, nsFd: number): Promise<void> {
    await this.wrap('setLink netns', () => this.sock.setLink({ index }, { netNsFd: nsFd }));
  }

  async addresses(index?: number): Promise<AddrInfo[]> {
    const msgs = await this.wrap('getAddresses', () => this.sock.getAddresses());
    const out: AddrInfo[] = [];
    for (const m of msgs) {
      if (index !== undefined && m.data.index !== index) continue;
      const raw = m.attrs.local ?? m.attrs.address;
      if (!raw) continue;
      out.push({ index: m.data.index ?? 0, ip: bytesToIp(raw), prefixLen: m.data.prefixlen ?? 0, family: m.data.family === AF_INET6 ? 6 : 4 });
    }
    return out;
  }

  /** Add an address; `nodad` skips IPv6 duplicate detection (our addresses are allocated, not guessed). */
  async addAddress(index: number, cidr: string, opts: { nodad?: boolean } = {}): Promise<void> {
    const c = parseCidr(cidr);
    const family = c.family === 6 ? AF_INET6 : AF_INET;
    const a: rt.AddressAttrs = { address: ipToBytes(c.ip), local: ipToBytes(c.ip) };
    if (c.family === 6) delete a.local;
    if (opts.nodad) a.flags = { nodad: true };
    await this.wrap(`newAddress ${cidr}`, () => this.sock.newAddress({ family, prefixlen: c.len, index }, a, { flags: FlagsNew.CREATE | FlagsNew.REPLACE }));
  }

  async deleteAddress(index: number, cidr: string): Promise<void> {
    const c = parseCidr(cidr);
    await this.wrap(`delAddress ${cidr}`, () =>
      this.sock.delAddress({ family: c.family === 6 ? AF_INET6 : AF_INET, prefixlen: c.len, index }, { address: ipToBytes(c.ip) }),
    );
  }

  /** Routes of the main table. */
  async routes(family: 4 | 6 = 6): Promise<RouteInfo[]> {
    const msgs = await this.wrap('getRoutes', () => this.sock.getRoutes({ family: family === 6 ? AF_INET6 : AF_INET }));
    return msgs
      .map((m) => {
        const table = m.attrs.table ?? m.data.table ?? 0;
        const dstIp = m.attrs.dst ? bytesToIp(m.attrs.dst) : family === 6 ? '::' : '0.0.0.0';
        return { dst: `${dstIp}/${m.data.dstLen ?? 0}`, oif: m.attrs.oif ?? null, gateway: m.attrs.gateway ? bytesToIp(m.attrs.gateway) : null, table };
      })
      .filter((r) => r.table === RT_TABLE_MAIN);
  }

  /** Add or replace a unicast route in the main table. */
  async replaceRoute(dst: string, oif: number, gateway?: string): Promise<void> {
    const c = parseCidr(dst);
    const a: rt.RouteAttrs = { oif };
    if (c.len > 0) a.dst = ipToBytes(c.ip);
    if (gateway) a.gateway = ipToBytes(gateway);
    await this.wrap(`newRoute ${dst}`, () =>
      this.sock.newRoute({ family: c.family === 6 ? AF_INET6 : AF_INET, dstLen: c.len, table: RT_TABLE_MAIN, protocol: 'STATIC', type: 'UNICAST' }, a, {
        flags: FlagsNew.CREATE | FlagsNew.REPLACE,
      }),
    );
  }

  async deleteRoute(dst: string, oif: number): Promise<void> {
    const c = parseCidr(dst);
    const a: rt.RouteAttrs = { oif };
    if (c.len > 0) a.dst = ipToBytes(c.ip);
    await this.wrap(`delRoute ${dst}`, () => this.sock.delRoute({ family: c.family === 6 ? AF_INET6 : AF_INET, dstLen: c.len, table: RT_TABLE_MAIN }, a));
  }
}

export { familyOf };
