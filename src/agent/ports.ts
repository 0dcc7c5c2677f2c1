// What the reconciler needs from the host, as small typed ports. The agent
// plugs in the real ones (src/agent/host-ports.ts: wg, rtnetlink, nft, the
// machine manager); unit tests and simulated hosts plug in fakes.
import type { NftSpec } from '../nft/render.js';
import type { DeviceSettings } from '../wg/cli.js';
import type { PeerChange } from '../wg/diff.js';
import type { WgDump } from '../wg/dump.js';
import type { ResolverPort } from './resolver.js';
import type { Attachment } from './types.js';

export interface WgPort {
  /** Create the device, or adopt the one there; `created`: it is new (no sessions). */
  ensure(iface: string): Promise<{ created: boolean }>;
  /** The device as `wg show dump` reports it; null when it is gone. */
  show(iface: string): Promise<WgDump | null>;
  setDevice(iface: string, s: DeviceSettings): Promise<void>;
  applyPeers(iface: string, changes: readonly PeerChange[]): Promise<unknown>;
}

export interface RtnlPort {
  link(name: string): Promise<{ index: number; mtu: number; up: boolean } | null>;
  setLink(index: number, opts: { up?: boolean; mtu?: number }): Promise<void>;
  addresses(index: number): Promise<{ ip: string; prefixLen: number }[]>;
  addAddress(index: number, cidr: string, opts: { nodad?: boolean }): Promise<void>;
  routes(family: 6): Promise<{ dst: string; oif: number | null }[]>;
  replaceRoute(dst: string, oif: number): Promise<void>;
  /** IPv6 forwarding on for this interface of ours (routing between attachments and the tunnel); never `all` */
  enableForwarding(iface: string): Promise<void>;
}

export interface NftPort {
  /** Replace our table with `spec` (`text` is its rendering, kept for the next start). */
  write(spec: NftSpec, text: string): Promise<void>;
  exists(table: string): Promise<boolean>;
}

export interface MachinesPort {
  reconcile(desired: readonly Attachment[]): Promise<void>;
  checkHealth(): Promise<void>;
}

export interface Ports {
  wg: WgPort;
  rtnl: RtnlPort;
  nft: NftPort;
  machines: MachinesPort;
  /** DNS-name endpoints to IP literals before `wg` sees them (absent: names go to `wg` as they are) */
  resolver?: ResolverPort;
}
