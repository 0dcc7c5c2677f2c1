// The DNS index: a derived, read-only view of a Replica, shaped for lookups.
// Built whole from a snapshot, patched per change record (only the apps and
// networks the change touched are rebuilt), and always replaced as a new
// object: a query holds one index for its whole lookup, so it never sees
// half an update.
import type { ChangeOp, Machine, Peer, Region } from '../model/types.js';
import type { Replica } from '../feed/replica.js';
import { networksTouched, type NetworkLookup } from '../model/changes.js';
import { REGIONS } from '../model/regions.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { reverseZone } from './names.js';
import { AppIndex, byId, NetworkIndex, pushTo, type Instance } from './app-index.js';
import { LayeredMap } from './layered.js';

export { AppIndex, NetworkIndex, type Instance } from './app-index.js';

export type ReplicaView = Pick<Replica, 'rev' | 'ready' | 'regions' | 'orgs' | 'networks' | 'apps' | 'hosts' | 'machines' | 'peers'>;

export interface DnsIndex {
  readonly rev: number;
  readonly ready: boolean;
  /** ULA prefix (first 16 bits), fdaa by default */
  readonly prefix: number;
  /** e.g. a.a.d.f.ip6.arpa */
  readonly reverseZone: string;
  readonly networks: ReadonlyMap<number, NetworkIndex>;
  /** host id → region code (querier region) */
  readonly hostRegion: ReadonlyMap<number, string>;
  readonly regions: ReadonlyMap<string, Region>;
  /** org name → its default network id (loopback rule of `sixpn up`) */
  readonly orgNetwork: ReadonlyMap<string, number>;
  /** app name → network id, to find the old network of a changed app */
  readonly appNetwork: ReadonlyMap<string, number>;
}

export function emptyIndex(prefix = DEFAULT_PREFIX): DnsIndex {
  return {
    rev: 0,
    ready: false,
    prefix,
    reverseZone: reverseZone(prefix),
    networks: new Map(),
    hostRegion: new Map(),
    regions: regionMap(new Map()),
    orgNetwork: new Map(),
    appNetwork: new Map(),
  };
}

function regionMap(fromReplica: ReadonlyMap<string, Region>): ReadonlyMap<string, Region> {
  return fromReplica.size > 0 ? fromReplica : new Map(REGIONS.map((r) => [r.code, r]));
}

function peerInstance(p: Peer & { app: string }): Instance {
  return { id: p.name, app: p.app, region: p.region, address: p.address, group: '', metadata: {}, state: 'started', peer: true };
}

/** Instances (machines and app peers) of the given apps, or of every app when `only` is null. */
function collectInstances(r: ReplicaView, only: ReadonlySet<string> | null): Map<string, Instance[]> {
  const out = new Map<string, Instance[]>();
  for (const m of r.machines.values() as Iterable<Machine>) {
    if (m.state === 'destroyed' || (only && !only.has(m.app))) continue;
    pushTo(out, m.app, m as Instance);
  }
  addPeerInstances(r, only, out);
  return out;
}

function addPeerInstances(r: ReplicaView, only: ReadonlySet<string> | null, out: Map<string, Instance[]>): void {
  for (const p of r.peers.values()) {
    if (!p.app || (only && !only.has(p.app))) continue;
    const app = r.apps.get(p.app);
    if (!app || app.network_id !== p.network_id) continue; // a peer serves only its own network's app
    pushTo(out, p.app, peerInstance(p as Peer & { app: string }));
  }
}

/**
 * Instances of changed apps without scanning every machine: an app's members
 * are its previous members with the machines the change names replaced by
 * what the replica has now, sorted by id. Its peer instances are looked up
 * again only when `peersMayDiffer` (a peer or app op). An app new to the
 * index is found by a scan.
 */
function changedInstances(
  prev: DnsIndex,
  r: ReplicaView,
  apps: ReadonlySet<string>,
  machineIds: ReadonlySet<string>,
  peersMayDiffer: boolean,
): Map<string, Instance[]> {
  const fresh = new Set<string>();
  const out = new Map<string, Instance[]>();
  for (const a of apps) {
    const netId = prev.appNetwork.get(a);
    const old = netId === undefined ? undefined : prev.networks.get(netId)?.apps.get(a);
    if (!old) {
      fresh.add(a);
      continue;
    }
    if (peersMayDiffer)
      out.set(
        a,
        old.all.filter((i) => !i.peer && !machineIds.has(i.id)),
      );
    else {
      // A copy, then the named machines found by binary search: no walk of a big app per change.
      const list = old.all.slice();
      for (const id of machineIds) removeMachine(list, id);
      out.set(a, list);
    }
  }
  for (const id of machineIds) {
    const m = r.machines.get(id);
    const list = m && m.state !== 'destroyed' ? out.get(m.app) : undefined;
    if (list) insertSorted(list, m as Instance);
  }
  if (peersMayDiffer && out.size > 0) {
    const re = new Map<string, Instance[]>();
    addPeerInstances(r, new Set(out.keys()), re);
    for (const [a, peers] of re) for (const i of peers) insertSorted(out.get(a)!, i);
  }
  if (fresh.size > 0) for (const [a, list] of collectInstances(r, fresh)) out.set(a, list.sort(byId));
  return out;
}

/** Remove machine `id` from `list` (sorted by id), if it is there. */
function removeMachine(list: Instance[], id: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  for (let j = lo; j < list.length && list[j]!.id === id; j++)
    if (!list[j]!.peer) {
      list.splice(j, 1);
      return;
    }
}

/** Insert `i` into `list`, kept sorted by id (a sort would copy the list to order it). */
function insertSorted(list: Instance[], i: Instance): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byId(list[mid]!, i) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, i);
}

function peersByNetwork(r: ReplicaView, only: ReadonlySet<number> | null): Map<number, Map<string, Peer>> {
  const out = new Map<number, Map<string, Peer>>();
  for (const p of r.peers.values()) {
    if (only && !only.has(p.network_id)) continue;
    let m = out.get(p.network_id);
    if (!m) out.set(p.network_id, (m = new Map()));
    m.set(p.name, p);
  }
  return out;
}

function hostRegions(r: ReplicaView): Map<number, string> {
  return new Map([...r.hosts.values()].map((h) => [h.id, h.region]));
}

function orgNetworks(r: ReplicaView): Map<string, number> {
  return new Map([...r.orgs.values()].map((o) => [o.name, o.network_id]));
}

/** Every network id the replica knows of (networks, org default networks, apps). */
function networkIds(r: ReplicaView): Set<number> {
  const ids = new Set<number>();
  for (const n of r.networks.values()) ids.add(n.id);
  for (const o of r.orgs.values()) ids.add(o.network_id);
  for (const a of r.apps.values()) ids.add(a.network_id);
  return ids;
}

/** Build the whole index from a replica. */
export function buildIndex(r: ReplicaView, prefix = DEFAULT_PREFIX): DnsIndex {
  const instances = collectInstances(r, null);
  const peers = peersByNetwork(r, null);
  const appsByNet = new Map<number, Map<string, AppIndex>>();
  for (const id of networkIds(r)) appsByNet.set(id, new Map());
  const appNetwork = new Map<string, number>();
  for (const a of r.apps.values()) {
    appsByNet.get(a.network_id)!.set(a.name, new AppIndex(a.name, a.network_id, instances.get(a.name) ?? []));
    appNetwork.set(a.name, a.network_id);
  }
  const networks = new Map<number, NetworkIndex>();
  for (const [id, apps] of appsByNet) networks.set(id, new NetworkIndex(id, apps, peers.get(id) ?? new Map(), r.rev));
  return {
    rev: r.rev,
    ready: r.ready,
    prefix,
    reverseZone: reverseZone(prefix),
    networks,
    hostRegion: hostRegions(r),
    regions: regionMap(r.regions),
    orgNetwork: orgNetworks(r),
    appNetwork,
  };
}

export interface PatchResult {
  index: DnsIndex;
  /** networks whose answers may have changed; null: all of them */
  networks: ReadonlySet<number> | null;
}

/**
 * Apply one change record to an index: rebuild only the touched apps and
 * networks, share everything else with `prev`. Deletes by key (rare: the
 * store sends destroyed machines as upserts) fall back to a full build.
 */
export function patchIndex(prev: DnsIndex, r: ReplicaView, ops: readonly ChangeOp[]): PatchResult {
  const before: NetworkLookup = {
    appNetwork: (a) => prev.appNetwork.get(a),
    peer: (org, name) => {
      for (const n of prev.networks.values()) {
        const old = n.peers.get(name);
        if (old && old.org === org) return old;
      }
      return undefined;
    },
  };
  const { networks: touched, apps, machines: machineIds, hosts, orgs } = networksTouched(ops, before, { appNetwork: (a) => r.apps.get(a)?.network_id });
  if (touched === null) return { index: buildIndex(r, prev.prefix), networks: null };
  const nets = touched;
  if (orgs) for (const id of networkIds(r)) if (!prev.networks.has(id)) nets.add(id);

  // only the touched networks are new: the others are shared, and so is the map's bulk (LayeredMap)
  const changed: [number, NetworkIndex][] = [];
  // copied only when an app appears, goes or moves (a copy is O(apps))
  const moved = [...apps].some((a) => prev.appNetwork.get(a) !== r.apps.get(a)?.network_id);
  const appNetwork = moved ? new Map(prev.appNetwork) : (prev.appNetwork as Map<string, number>);
  if (nets.size > 0) {
    const peerOps = ops.some((op) => op.entity === 'peer');
    const instances =
      apps.size > 0 ? changedInstances(prev, r, apps, machineIds, peerOps || ops.some((op) => op.entity === 'app')) : new Map<string, Instance[]>();
    // Without a peer op every network keeps its peers (a new network has none yet).
    const peers = peerOps ? peersByNetwork(r, nets) : null;
    const appMaps = new Map<number, Map<string, AppIndex>>();
    for (const id of nets) {
      const appMap = new Map(prev.networks.get(id)?.apps ?? []);
      for (const a of apps) appMap.delete(a);
      appMaps.set(id, appMap);
    }
    for (const a of apps) {
      const app = r.apps.get(a);
      if (moved) {
        if (app) appNetwork.set(a, app.network_id);
        else appNetwork.delete(a);
      }
      if (!app) continue;
      appMaps.get(app.network_id)!.set(a, new AppIndex(a, app.network_id, instances.get(a) ?? [], true));
    }
    for (const [id, appMap] of appMaps) {
      const netPeers = peers ? (peers.get(id) ?? new Map()) : (prev.networks.get(id)?.peers ?? new Map());
      changed.push([id, new NetworkIndex(id, appMap, netPeers, r.rev)]);
    }
  }
  const index: DnsIndex = {
    ...prev,
    rev: r.rev,
    ready: prev.ready || r.ready,
    networks: changed.length ? LayeredMap.of(prev.networks).with(changed) : prev.networks,
    appNetwork,
    hostRegion: hosts ? hostRegions(r) : prev.hostRegion,
    orgNetwork: orgs ? orgNetworks(r) : prev.orgNetwork,
  };
  return { index, networks: nets };
}
