// The host's desired state, computed from the replicated coordinator state.
// Pure: same State in, same DesiredHost out; the reconciler diffs it against
// what the devices report.
import { hostPrefix, machineFieldOf, machineGatewayAddress, machineSubnet, networkDnsAddress, networkPrefix } from '../addr/plan.js';
import type { Host, Machine, Peer, State } from '../model/types.js';
import type { NftSpec } from '../nft/render.js';
import { tableName } from '../nft/render.js';
import type { DesiredPeer } from '../wg/diff.js';
import type { Attachment } from './types.js';
import { MACHINE_API_PORT } from '../machineapi/port.js';

export interface SelfConfig {
  hostId: number;
  gateway: boolean;
  iface: string;
  listenPort: number;
  mtu: number;
  /** ULA prefix, first 16 bits (0xfdaa) */
  prefix: number;
  /** local port of the DNS server fdaa:*::3 port 53 is redirected to */
  dnsPort: number;
  /** local port of the machine API fdaa:*::3 tcp/80 from attachments is redirected to; 0/absent: none */
  machineApiPort?: number;
  outsideFilter: boolean;
  openPorts: { proto: 'tcp' | 'udp'; port: number }[];
}

/** Who a WireGuard peer is, for logs and peer-status reports. */
export type PeerOwner = { kind: 'host'; hostId: number; region: string } | { kind: 'peer'; org: string; name: string };

export interface DesiredHost {
  peers: DesiredPeer[];
  /**
   * Set by the patched planner (src/agent/desired-index.ts), which updates
   * `peers` in place: it grows whenever a peer changes, so a list is known by
   * it rather than by its identity. Absent: a new list is a new state.
   */
  peersVersion?: number;
  /** the peers replaced in place since version `since` (no peer added or removed); absent: compare every peer */
  peerDelta?: { since: number; touched: readonly DesiredPeer[] };
  owners: Map<string, PeerOwner>;
  attachments: Attachment[];
  /** addresses on the WireGuard device */
  addresses: string[];
  /** routes through the WireGuard device */
  routes: string[];
  nft: NftSpec;
}

/** Host side of a machine: "sx" + its 32-bit machine field (unique per host). */
export function hostIfaceName(machineId: string): string {
  return `sx${machineId.slice(0, 8)}`;
}

export function nsName(machineId: string): string {
  return `sixpn-${machineId}`;
}

/**
 * The host's own address on the WireGuard device, in network 0 (never
 * allocated to an org). Not routed anywhere; it exists because nft `redirect`
 * of a global destination needs a global address on the incoming interface
 * (developer peers query fdaa:N:N::3 through a gateway's WireGuard device).
 */
export function hostInfraAddress(hostId: number, prefix: number): string {
  return machineGatewayAddress(0, hostId, 0, prefix);
}

export function prefixCidr(prefix: number): string {
  return `${prefix.toString(16)}::/16`;
}

/** Network ids a host holds: every network with a (non-destroyed) machine or a peer on it. */
export function networksByHost(machines: Iterable<Machine>, peers: Iterable<Peer>): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  const add = (h: number, n: number): void => {
    let s = out.get(h);
    if (!s) out.set(h, (s = new Set()));
    s.add(n);
  };
  for (const m of machines) if (m.state !== 'destroyed') add(m.host_id, m.network_id);
  for (const p of peers) add(p.host_id, p.network_id);
  return out;
}

function meshPeer(h: Host, nets: Set<number> | undefined, prefix: number): DesiredPeer {
  const allowedIps = [...(nets ?? [])].sort((a, b) => a - b).map((n) => hostPrefix(n, h.id, prefix));
  return { publicKey: h.public_key, endpoint: h.endpoint, allowedIps, keepalive: 0 };
}

export function attachmentOf(m: Machine, self: Pick<SelfConfig, 'mtu' | 'prefix'>): Attachment {
  const field = machineFieldOf(m.id);
  return {
    machineId: m.id,
    app: m.app,
    org: m.org,
    region: m.region,
    networkId: m.network_id,
    address: m.address,
    gateway: machineGatewayAddress(m.network_id, m.host_id, field, self.prefix),
    subnet: machineSubnet(m.network_id, m.host_id, field, self.prefix),
    dnsAddress: networkDnsAddress(m.network_id, self.prefix),
    network: networkPrefix(m.network_id, self.prefix),
    hostIface: hostIfaceName(m.id),
    nsName: nsName(m.id),
    mtu: self.mtu,
    command: m.command,
    // A stop/start cycle bumps updated_at: a command that ended runs again.
    generation: m.updated_at,
  };
}

/** Gateway peers' order: by address (ties by org and name, so any input order gives one plan). */
export function byPeerAddress(a: Peer, b: Peer): number {
  return a.address.localeCompare(b.address) || (a.org < b.org ? -1 : a.org > b.org ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** What the desired state holds whatever the replica says (the nft spec without networks or attachments). */
export function desiredBase(self: SelfConfig): Pick<DesiredHost, 'addresses' | 'routes' | 'nft'> {
  const prefixText = prefixCidr(self.prefix);
  return {
    addresses: [`${hostInfraAddress(self.hostId, self.prefix)}/128`],
    routes: [prefixText],
    nft: {
      table: tableName(self.iface),
      wgIface: self.iface,
      wgPort: self.listenPort,
      prefix: prefixText,
      networks: [],
      attachments: [],
      redirects: [
        { port: 53, protocols: ['udp', 'tcp'], toPort: self.dnsPort },
        // Machines only: the API knows its caller by the attachment-checked source.
        ...(self.machineApiPort ? [{ port: MACHINE_API_PORT, protocols: ['tcp' as const], toPort: self.machineApiPort, from: 'attachments' as const }] : []),
      ],
      gateway: self.gateway,
      outsideFilter: self.outsideFilter,
      openPorts: self.openPorts,
    },
  };
}

/**
 * The whole desired state from the whole state: after a snapshot, and the
 * reference the patched one (src/agent/desired-index.ts) is tested against.
 */
export function computeDesired(state: Pick<State, 'hosts' | 'machines' | 'peers'>, self: SelfConfig): DesiredHost {
  const held = networksByHost(state.machines, state.peers);
  const peers: DesiredPeer[] = [];
  const owners = new Map<string, PeerOwner>();
  const me = state.hosts.find((h) => h.id === self.hostId);
  for (const h of [...state.hosts].sort((a, b) => a.id - b.id)) {
    if (h.id === self.hostId || owners.has(h.public_key) || h.public_key === me?.public_key) continue;
    peers.push(meshPeer(h, held.get(h.id), self.prefix));
    owners.set(h.public_key, { kind: 'host', hostId: h.id, region: h.region });
  }
  if (self.gateway) {
    for (const p of [...state.peers].sort(byPeerAddress)) {
      if (p.host_id !== self.hostId || owners.has(p.public_key)) continue;
      peers.push({ publicKey: p.public_key, endpoint: null, allowedIps: [`${p.address}/128`], keepalive: 0 });
      owners.set(p.public_key, { kind: 'peer', org: p.org, name: p.name });
    }
  }
  const attachments = state.machines
    .filter((m) => m.host_id === self.hostId && m.state === 'started')
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((m) => attachmentOf(m, self));
  const localNets = [...(held.get(self.hostId) ?? [])].sort((a, b) => a - b);
  const base = desiredBase(self);
  return {
    peers,
    owners,
    attachments,
    addresses: base.addresses,
    routes: base.routes,
    nft: {
      ...base.nft,
      networks: localNets.map((n) => networkPrefix(n, self.prefix)),
      attachments: attachments.map((a) => ({ iface: a.hostIface, address: a.address })),
    },
  };
}
