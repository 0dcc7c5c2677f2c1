// In-memory copy of the coordinator state, fed by the change feed.
// Consumers (DNS index, agent reconciler) read it and rebuild their own
// derived views after each update; a snapshot replaces every map at once.
// Readers get read-only maps: the replica changes only through its methods.
import type { App, ChangeOp, ChangeRecord, Host, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import { entityKey } from '../model/types.js';
import { opKey } from '../model/changes.js';

export interface ReplicaUpdate {
  rev: number;
  /** null after a snapshot: everything may have changed */
  ops: ChangeOp[] | null;
}

export type ReplicaListener = (u: ReplicaUpdate) => void;

export class Replica {
  private _rev = 0;
  private _ready = false;
  private _regions = new Map<string, Region>();
  private _orgs = new Map<string, Org>();
  private _networks = new Map<string, Network>();
  private _apps = new Map<string, App>();
  private _hosts = new Map<string, Host>();
  private _machines = new Map<string, Machine>();
  private _peers = new Map<string, Peer>();
  private readonly listeners = new Set<ReplicaListener>();

  /** revision of the last snapshot or change applied */
  get rev(): number { return this._rev; }
  /** true once a snapshot was applied, until `markStale` */
  get ready(): boolean { return this._ready; }
  get regions(): ReadonlyMap<string, Region> { return this._regions; }
  get orgs(): ReadonlyMap<string, Org> { return this._orgs; }
  /** keyed by String(id) */
  get networks(): ReadonlyMap<string, Network> { return this._networks; }
  get apps(): ReadonlyMap<string, App> { return this._apps; }
  /** keyed by String(id) */
  get hosts(): ReadonlyMap<string, Host> { return this._hosts; }
  /** live machines only (destroyed ones are dropped) */
  get machines(): ReadonlyMap<string, Machine> { return this._machines; }
  /** keyed by `org/name` */
  get peers(): ReadonlyMap<string, Peer> { return this._peers; }

  /** Call `fn` after every snapshot and change applied; returns the unsubscribe. */
  subscribe(fn: ReplicaListener): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  applySnapshot(rev: number, state: State): void {
    this._regions = new Map(state.regions.map((r) => [r.code, r]));
    this._orgs = new Map(state.orgs.map((o) => [entityKey('org', o), o]));
    this._networks = new Map(state.networks.map((n) => [entityKey('network', n), n]));
    this._apps = new Map(state.apps.map((a) => [entityKey('app', a), a]));
    this._hosts = new Map(state.hosts.map((h) => [entityKey('host', h), h]));
    this._machines = new Map(state.machines.filter((m) => m.state !== 'destroyed').map((m) => [entityKey('machine', m), m]));
    this._peers = new Map(state.peers.map((p) => [entityKey('peer', p), p]));
    this._rev = rev;
    this._ready = true;
    this.notify({ rev, ops: null });
  }

  applyChange(rec: ChangeRecord): void {
    if (rec.rev <= this._rev) return; // already seen (resume overlap)
    for (const op of rec.ops) this.applyOp(op);
    this._rev = rec.rev;
    this.notify({ rev: rec.rev, ops: rec.ops });
  }

  /**
   * The replica missed changes (the feed saw a revision gap): it keeps its
   * contents for readers, but the next connection must ask for a snapshot.
   */
  markStale(): void {
    this._ready = false;
  }

  private notify(u: ReplicaUpdate): void {
    // A copy: a listener may unsubscribe itself (or another) while called.
    for (const fn of [...this.listeners]) fn(u);
  }

  private mapOf(entity: ChangeOp['entity']): Map<string, unknown> {
    switch (entity) {
      case 'org': return this._orgs;
      case 'network': return this._networks;
      case 'app': return this._apps;
      case 'host': return this._hosts;
      case 'machine': return this._machines;
      case 'peer': return this._peers;
    }
  }

  private applyOp(op: ChangeOp): void {
    const map = this.mapOf(op.entity);
    if (op.op === 'delete' || (op.entity === 'machine' && op.data.state === 'destroyed')) map.delete(opKey(op));
    else map.set(opKey(op), op.data);
  }

  toState(): State {
    return {
      regions: [...this._regions.values()],
      orgs: [...this._orgs.values()],
      networks: [...this._networks.values()],
      apps: [...this._apps.values()],
      hosts: [...this._hosts.values()],
      machines: [...this._machines.values()],
      peers: [...this._peers.values()],
    };
  }
}
