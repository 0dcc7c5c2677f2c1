// An in-memory host behind the agent's ports (src/agent/ports.ts): a
// WireGuard device with peers, a link with addresses and routes, an nft
// table, machines. For unit tests of apply and the loop, without root.
import type { MachinesPort, NftPort, Ports, RtnlPort, WgPort } from '../src/agent/ports.js';
import type { ResolverPort } from '../src/agent/resolver.js';
import type { Attachment } from '../src/agent/types.js';
import { canonicalCidr } from '../src/netlink/ip.js';
import type { NftSpec } from '../src/nft/render.js';
import type { DeviceSettings } from '../src/wg/cli.js';
import type { PeerChange } from '../src/wg/diff.js';
import type { WgDump, WgPeerInfo } from '../src/wg/dump.js';
import { sortCidrs } from '../src/wg/dump.js';

export type FaultPoint = 'wg.show' | 'wg.applyPeers' | 'rtnl.routes' | 'nft.write' | 'machines.reconcile';

export class FakeHost implements Ports {
  /** every port call, in order ("wg.show", "wg.applyPeers add=1 update=0 remove=0"…) */
  readonly calls: string[] = [];
  device: { privateKey: string | null; listenPort: number; peers: Map<string, WgPeerInfo> } | null = null;
  link = { index: 7, mtu: 1420, up: false };
  addresses: string[] = [];
  routes: string[] = [];
  nftText: string | null = null;
  attachments: readonly Attachment[] = [];
  healthChecks = 0;
  /** fail the next N calls at this point */
  readonly faults = new Map<FaultPoint, { times: number; message: string }>();
  /** a call to machines.reconcile waits for this, when set */
  gate: Promise<void> | null = null;
  /** `wg set` refuses any call that touches one of these peers (as it does an endpoint it cannot resolve) */
  readonly refused = new Set<string>();
  /** names to addresses (absent: endpoints go to `wg` as they are) */
  resolver?: ResolverPort;

  private fault(p: FaultPoint): void {
    const f = this.faults.get(p);
    if (!f || f.times <= 0) return;
    f.times--;
    throw new Error(f.message);
  }

  failNext(p: FaultPoint, times: number, message = `${p} failed`): void {
    this.faults.set(p, { times, message });
  }

  /** Peers as the device holds them, for assertions. */
  peers(): WgPeerInfo[] {
    return [...(this.device?.peers.values() ?? [])];
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }

  readonly wg: WgPort = {
    ensure: async () => {
      this.calls.push('wg.ensure');
      if (this.device) return { created: false };
      this.device = { privateKey: null, listenPort: 0, peers: new Map() };
      return { created: true };
    },
    show: async (): Promise<WgDump | null> => {
      this.calls.push('wg.show');
      this.fault('wg.show');
      if (!this.device) return null;
      return {
        device: { privateKey: this.device.privateKey, publicKey: null, listenPort: this.device.listenPort, fwmark: null },
        peers: this.peers().map((p) => ({ ...p, allowedIps: [...p.allowedIps] })),
      };
    },
    setDevice: async (_iface: string, s: DeviceSettings) => {
      this.calls.push(`wg.setDevice${s.privateKey ? ' key' : ''}${s.listenPort ? ` port=${s.listenPort}` : ''}`);
      if (!this.device) throw new Error('no device');
      if (s.privateKey !== undefined) this.device.privateKey = s.privateKey;
      if (s.listenPort !== undefined) this.device.listenPort = s.listenPort;
    },
    applyPeers: async (_iface: string, changes: readonly PeerChange[]) => {
      const n = (k: PeerChange['kind']): number => changes.filter((c) => c.kind === k).length;
      this.calls.push(`wg.applyPeers add=${n('add')} update=${n('update')} remove=${n('remove')}`);
      this.fault('wg.applyPeers');
      if (!this.device) throw new Error('no device');
      const bad = changes.find((c) => this.refused.has(c.kind === 'add' ? c.peer.publicKey : c.publicKey));
      if (bad) throw new Error(`wg set: peer ${bad.kind === 'add' ? bad.peer.publicKey : bad.publicKey} refused`);
      const peers = this.device.peers;
      for (const c of changes) {
        if (c.kind === 'remove') peers.delete(c.publicKey);
        else if (c.kind === 'add') {
          peers.set(c.peer.publicKey, {
            publicKey: c.peer.publicKey,
            presharedKey: null,
            endpoint: c.peer.endpoint,
            allowedIps: sortCidrs(c.peer.allowedIps),
            latestHandshake: 0,
            rxBytes: 0,
            txBytes: 0,
            keepalive: c.peer.keepalive,
          });
        } else {
          const p = peers.get(c.publicKey);
          if (!p) throw new Error(`no peer ${c.publicKey}`);
          if (c.endpoint !== undefined) p.endpoint = c.endpoint;
          if (c.allowedIps !== undefined) p.allowedIps = sortCidrs(c.allowedIps);
          if (c.keepalive !== undefined) p.keepalive = c.keepalive;
        }
      }
      return 1;
    },
  };

  readonly rtnl: RtnlPort = {
    link: async () => {
      this.calls.push('rtnl.link');
      return this.device ? { ...this.link } : null;
    },
    setLink: async (_index, opts) => {
      this.calls.push(`rtnl.setLink mtu=${opts.mtu} up=${opts.up}`);
      if (opts.mtu !== undefined) this.link.mtu = opts.mtu;
      if (opts.up !== undefined) this.link.up = opts.up;
    },
    addresses: async () => {
      this.calls.push('rtnl.addresses');
      return this.addresses.map((a) => {
        const [ip, len] = canonicalCidr(a).split('/');
        return { ip: ip!, prefixLen: Number(len) };
      });
    },
    addAddress: async (_index, cidr) => {
      this.calls.push(`rtnl.addAddress ${cidr}`);
      this.addresses.push(cidr);
    },
    routes: async () => {
      this.calls.push('rtnl.routes');
      this.fault('rtnl.routes');
      return this.routes.map((dst) => ({ dst: canonicalCidr(dst), oif: this.link.index }));
    },
    replaceRoute: async (dst) => {
      this.calls.push(`rtnl.replaceRoute ${dst}`);
      if (!this.routes.includes(dst)) this.routes.push(dst);
    },
    enableForwarding: async (iface) => {
      this.calls.push(`rtnl.enableForwarding ${iface}`);
    },
  };

  readonly nft: NftPort = {
    write: async (_spec: NftSpec, text: string) => {
      this.calls.push('nft.write');
      this.fault('nft.write');
      this.nftText = text;
    },
    exists: async () => this.nftText !== null,
  };

  readonly machines: MachinesPort = {
    reconcile: async (desired) => {
      this.calls.push(`machines.reconcile ${desired.length}`);
      if (this.gate) await this.gate;
      this.fault('machines.reconcile');
      this.attachments = desired;
    },
    checkHealth: async () => {
      this.calls.push('machines.checkHealth');
      this.healthChecks++;
    },
  };
}
