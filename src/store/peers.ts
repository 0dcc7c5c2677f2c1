// Developer peers: a WireGuard key of an org, carried by a gateway host of its
// region (see addr/placement.ts), optionally standing in as an app instance.
// Their handshake status is reported by the gateway and kept out of the feed.
import { allocatePeerIndex, peerAddress } from '../addr/plan.js';
import { placePeer } from '../addr/placement.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { App, Host, Network, Peer } from '../model/types.js';
import { findApp } from './apps.js';
import { ALWAYS_REACHABLE, listGateways, type Liveness } from './hosts.js';
import { networkById, requireNetwork } from './networks.js';
import { requireOrg } from './orgs.js';
import { listRegions, requireRegion } from './regions.js';
import { now, type Tx } from './sql.js';

export interface CreatePeerInput {
  org: string;
  name: string;
  region: string;
  public_key: string;
  network?: string;
  app?: string | null;
  /** an ephemeral peer: the coordinator removes it at this time (ISO) */
  expires_at?: string | null;
}

export interface PeerStatus {
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string | null;
  reported_at: string;
}

export type PeerStatusReport = { org: string; name: string } & Omit<PeerStatus, 'reported_at'>;

interface PeerRow {
  org: string;
  name: string;
  network_id: number | string;
  host_id: number | string;
  region: string;
  idx: number | string;
  address: string;
  public_key: string;
  app: string | null;
  created_at: string;
  expires_at: string | null;
}

const COLS = 'org, name, network_id, host_id, region, idx, address, public_key, app, created_at, expires_at';

const toPeer = (r: PeerRow): Peer => ({
  org: r.org,
  name: r.name,
  network_id: Number(r.network_id),
  host_id: Number(r.host_id),
  region: r.region,
  index: Number(r.idx),
  address: r.address,
  public_key: r.public_key,
  app: r.app,
  created_at: r.created_at,
  expires_at: r.expires_at ?? null,
});

/** The network a new peer joins: the one named, else its app's, else the org's default. */
async function peerNetwork(tx: Tx, input: CreatePeerInput, app: App | null): Promise<Network> {
  const network = input.network || !app ? await requireNetwork(tx, input.org, input.network ?? 'default') : (await networkById(tx, app.network_id))!;
  if (app && app.network_id !== network.id) throw new AppError('invalid', `app ${input.app} is not in network ${network.org}/${network.name}`);
  return network;
}

export async function createPeer(tx: Tx, input: CreatePeerInput, live: Liveness = ALWAYS_REACHABLE): Promise<{ peer: Peer; gateway: Host }> {
  await requireOrg(tx, input.org);
  const region = await requireRegion(tx, input.region);
  let app: App | null = null;
  if (input.app) {
    app = await findApp(tx, input.app);
    // Another org's app is "not found" to this caller, as everywhere else.
    if (!app || app.org !== input.org) throw notFound('app', input.app);
  }
  const network = await peerNetwork(tx, input, app);
  if (await tx.get('SELECT 1 FROM peers WHERE org = ? AND name = ?', [input.org, input.name])) throw conflict('peer', input.name);
  if (await tx.get('SELECT 1 FROM peers WHERE public_key = ?', [input.public_key]))
    throw new AppError('conflict', 'a peer with this public key already exists');
  const gateways = await listGateways(tx, live);
  const counts = await tx.all<{ host_id: number | string; n: number | string }>('SELECT host_id, COUNT(*) AS n FROM peers GROUP BY host_id');
  const load = new Map(counts.map((c) => [Number(c.host_id), Number(c.n)]));
  const regions = new Map((await listRegions(tx)).map((r) => [r.code, r]));
  const gatewayId = placePeer(
    gateways.map((g) => ({ id: g.id, region: g.region, load: load.get(g.id) ?? 0 })),
    region,
    regions,
  );
  const gateway = gateways.find((g) => g.id === gatewayId)!;
  const used = new Set(
    (await tx.all<{ idx: number | string }>('SELECT idx FROM peers WHERE host_id = ? AND network_id = ?', [gateway.id, network.id])).map((r) => Number(r.idx)),
  );
  const index = allocatePeerIndex(used);
  const peer: Peer = {
    org: input.org,
    name: input.name,
    network_id: network.id,
    host_id: gateway.id,
    region: input.region,
    index,
    address: peerAddress(network.id, gateway.id, index),
    public_key: input.public_key,
    app: input.app ?? null,
    created_at: now(),
    expires_at: input.expires_at ?? null,
  };
  // Status reports take no revision lock (see setPeerStatus), so one may land just after a peer
  // of this name was removed: a new peer never inherits it.
  await tx.run('DELETE FROM peer_status WHERE org = ? AND name = ?', [input.org, input.name]);
  await tx.run(`INSERT INTO peers (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    peer.org,
    peer.name,
    peer.network_id,
    peer.host_id,
    peer.region,
    peer.index,
    peer.address,
    peer.public_key,
    peer.app,
    peer.created_at,
    peer.expires_at ?? null,
  ]);
  return { peer, gateway };
}

/** One org's peers by name, or every peer (by org, name) when `org` is undefined. */
export async function listPeers(tx: Tx, org?: string): Promise<Peer[]> {
  return (
    org === undefined
      ? await tx.all<PeerRow>(`SELECT ${COLS} FROM peers ORDER BY org, name`)
      : await tx.all<PeerRow>(`SELECT ${COLS} FROM peers WHERE org = ? ORDER BY name`, [org])
  ).map(toPeer);
}

/** One page of every peer by (org, name), after the key `after` (keyset paging for a streamed snapshot). */
export async function peersPage(tx: Tx, after: { org: string; name: string } | null, limit: number): Promise<Peer[]> {
  const sql = `SELECT ${COLS} FROM peers WHERE org > ? OR (org = ? AND name > ?) ORDER BY org, name LIMIT ?`;
  const a = after ?? { org: '', name: '' };
  return (await tx.all<PeerRow>(sql, [a.org, a.org, a.name, limit])).map(toPeer);
}

export async function requirePeer(tx: Tx, org: string, name: string): Promise<Peer> {
  const r = await tx.get<PeerRow>(`SELECT ${COLS} FROM peers WHERE org = ? AND name = ?`, [org, name]);
  if (!r) throw notFound('peer', name);
  return toPeer(r);
}

/** Remove the peer and its status; returns what was removed. */
export async function removePeer(tx: Tx, org: string, name: string): Promise<Peer> {
  const peer = await requirePeer(tx, org, name);
  await tx.run('DELETE FROM peers WHERE org = ? AND name = ?', [org, name]);
  await tx.run('DELETE FROM peer_status WHERE org = ? AND name = ?', [org, name]);
  return peer;
}

/** The peers a gateway carries (by org, name). */
export async function peersOnHost(tx: Tx, hostId: number): Promise<Peer[]> {
  return (await tx.all<PeerRow>(`SELECT ${COLS} FROM peers WHERE host_id = ? ORDER BY org, name`, [hostId])).map(toPeer);
}

/** Remove every peer whose expiry is at or before `at`; returns what was removed. */
export async function removeExpiredPeers(tx: Tx, at: string): Promise<Peer[]> {
  const gone = (await tx.all<PeerRow>(`SELECT ${COLS} FROM peers WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY org, name`, [at])).map(toPeer);
  for (const p of gone) await removePeer(tx, p.org, p.name);
  return gone;
}

/** The soonest expiry of an ephemeral peer, or null when there is none. */
export async function nextPeerExpiry(tx: Tx): Promise<string | null> {
  const r = await tx.get<{ at: string | null }>('SELECT MIN(expires_at) AS at FROM peers WHERE expires_at IS NOT NULL');
  return r?.at ?? null;
}

/**
 * A gateway's report on the peers it carries; reports on other hosts' peers
 * are ignored. Runs outside the revision lock (Store.setPeerStatus): the
 * ownership read and the upsert race only with that peer's removal.
 */
export async function setPeerStatus(tx: Tx, hostId: number, statuses: readonly PeerStatusReport[]): Promise<void> {
  const at = now();
  for (const s of statuses) {
    const owner = await tx.get<{ host_id: number | string }>('SELECT host_id FROM peers WHERE org = ? AND name = ?', [s.org, s.name]);
    if (!owner || Number(owner.host_id) !== hostId) continue;
    await tx.run(
      `INSERT INTO peer_status (org, name, latest_handshake, rx_bytes, tx_bytes, endpoint, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, name) DO UPDATE SET latest_handshake = excluded.latest_handshake, rx_bytes = excluded.rx_bytes,
         tx_bytes = excluded.tx_bytes, endpoint = excluded.endpoint, reported_at = excluded.reported_at`,
      [s.org, s.name, s.latest_handshake, s.rx_bytes, s.tx_bytes, s.endpoint, at],
    );
  }
}

export async function getPeerStatus(tx: Tx, org: string, name: string): Promise<PeerStatus | null> {
  const r = await tx.get<PeerStatus>('SELECT latest_handshake, rx_bytes, tx_bytes, endpoint, reported_at FROM peer_status WHERE org = ? AND name = ?', [
    org,
    name,
  ]);
  return r ? { ...r, latest_handshake: Number(r.latest_handshake), rx_bytes: Number(r.rx_bytes), tx_bytes: Number(r.tx_bytes) } : null;
}
