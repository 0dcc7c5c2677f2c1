// Gateways report their developer peers' WireGuard state (handshake, bytes,
// endpoint) to the coordinator, for `sixpn peers list`.
import type { Logger } from '../log.js';
import type { WgDump } from '../wg/dump.js';
import { ApiError, type CoordinatorApi, type PeerStatus } from '../client/api.js';
import type { PeerOwner } from './desired.js';
import type { WgPort } from './ports.js';
import type { StatusBoard } from './status.js';

/** The device's developer peers (mesh hosts are left out), as the coordinator takes them. */
export function peerStatuses(dump: WgDump, owners: ReadonlyMap<string, PeerOwner>): PeerStatus[] {
  const peers: PeerStatus[] = [];
  for (const p of dump.peers) {
    const o = owners.get(p.publicKey);
    if (o?.kind !== 'peer') continue;
    peers.push({ org: o.org, name: o.name, latest_handshake: p.latestHandshake, rx_bytes: p.rxBytes, tx_bytes: p.txBytes, endpoint: p.endpoint });
  }
  return peers;
}

/** Read the device and report; a failed report waits for the next interval. */
export async function reportPeerStatus(o: { status: StatusBoard; wg: WgPort; iface: string; api: CoordinatorApi; hostId: number; log: Logger }): Promise<void> {
  const d = o.status.desired;
  if (!d) return;
  const dump = await o.wg.show(o.iface);
  if (!dump) return;
  o.status.dump = dump;
  const peers = peerStatuses(dump, d.owners);
  if (!peers.length) return;
  await o.api.reportPeers(o.hostId, peers).catch((err: unknown) => {
    o.log.debug({ err: err instanceof ApiError ? err.message : String(err) }, 'peer status report failed');
  });
}
