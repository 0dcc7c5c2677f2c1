// In-memory copy of the coordinator state, fed by the change feed.
// Consumers (DNS index, agent reconciler) read it and rebuild their own
// derived views after each update; a snapshot replaces every map at once.
// Readers get read-only maps: the replica changes only through its methods.
// What a newer coordinator sends and this version does not know (an entity
// kind, an op) is skipped and reported once per kind (onUnknown): an old
// replica keeps serving what it understands instead of crash-looping.
import type { App, ChangeOp, ChangeRecord, EntityKind, Host, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import { ENTITY_KINDS, entityKey, machineGone } from '../model/types.js';
import { opKey } from '../model/changes.js';

export interface ReplicaUpdate {
  rev: number;
  /** null after a snapshot: everything may have changed */
  ops: ChangeOp[] | null;
  /** per op, the entity its key held before that op (undefined: none), for consumers that patch derived state */
  before?: (Org | Network | App | Host | Machine | Peer | undefined)[];
}

export type ReplicaListener = (u: ReplicaUpdate) => void;

/** Something skipped, reported once per kind: `{ what: 'entity' | 'op', name }`. */
export interface ReplicaUnknown {
  what: 'entity' | 'op';
  name: string;
}

const KNOWN_ENTITIES = new Set<string>(ENTITY_KINDS);

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
  /** replaced, never changed, on (un)subscribe: a notify walks the list as it was */
  private listeners: readonly ReplicaListener[] = [];
  private readonly unknownListeners = new Set<(u: ReplicaUnknown) => void>();
  /** entity kinds and ops already reported as unknown */
  private readonly skipped = new Set<string>();

  /** revision of the last snapshot or change applied */
  get rev(): number {
    return this._rev;
  }
  /** true once a snapshot was applied, until `markStale` */
  get ready(): boolean {
    return this._ready;
  }
  get regions(): ReadonlyMap<string, Region> {
    return this._regions;
  }
  get orgs(): ReadonlyMap<string, Org> {
    return this._orgs;
  }
  /** keyed by String(id) */
  get networks(): ReadonlyMap<string, Network> {
    return this._networks;
  }
  get apps(): ReadonlyMap<string, App> {
    return this._apps;
  }
  /** keyed by String(id) */
  get hosts(): ReadonlyMap<string, Host> {
    return this._hosts;
  }
  /** live machines only (destroyed and lost ones are dropped) */
  get machines(): ReadonlyMap<string, Machine> {
    return this._machines;
  }
  /** keyed by `org/name` */
  get peers(): ReadonlyMap<string, Peer> {
    return this._peers;
  }

  /** Call `fn` after every snapshot and change applied; returns the unsubscribe. */
  subscribe(fn: ReplicaListener): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }

  /** Call `fn` once per entity kind or op this version does not know; returns the unsubscribe. */
  onUnknown(fn: (u: ReplicaUnknown) => void): () => void {
    this.unknownListeners.add(fn);
    return () => {
      this.unknownListeners.delete(fn);
    };
  }

  applySnapshot(rev: number, state: State): void {
    // A missing list reads as empty; lists of kinds this version does not know are ignored.
    const all = <T>(xs: T[] | undefined): T[] => (Array.isArray(xs) ? xs : []);
    this._regions = new Map(all(state.regions).map((r) => [r.code, r]));
    this._orgs = new Map(all(state.orgs).map((o) => [entityKey('org', o), o]));
    this._networks = new Map(all(state.networks).map((n) => [entityKey('network', n), n]));
    this._apps = new Map(all(state.apps).map((a) => [entityKey('app', a), a]));
    this._hosts = new Map(all(state.hosts).map((h) => [entityKey('host', h), h]));
    this._machines = new Map(
      all(state.machines)
        .filter((m) => !machineGone(m))
        .map((m) => [entityKey('machine', m), m]),
    );
    this._peers = new Map(all(state.peers).map((p) => [entityKey('peer', p), p]));
    this._rev = rev;
    this._ready = true;
    this.notify({ rev, ops: null });
  }

  applyChange(rec: ChangeRecord): void {
    if (rec.rev <= this._rev) return; // already seen (resume overlap)
    const ops = rec.ops.every((op) => this.known(op)) ? rec.ops : rec.ops.filter((op) => this.known(op));
    const before = ops.map((op) => this.applyOp(op));
    this._rev = rec.rev; // consumed even when every op in it was skipped
    this.notify({ rev: rec.rev, ops, before });
  }

  /** Whether this version understands `op`; reports each unknown kind once. */
  private known(op: ChangeOp): boolean {
    const o = op as { entity: unknown; op: unknown };
    const unknown: ReplicaUnknown | null = !KNOWN_ENTITIES.has(String(o.entity))
      ? { what: 'entity', name: String(o.entity) }
      : o.op !== 'upsert' && o.op !== 'delete'
        ? { what: 'op', name: String(o.op) }
        : null;
    if (!unknown) return true;
    const id = `${unknown.what}:${unknown.name}`;
    if (!this.skipped.has(id)) {
      this.skipped.add(id);
      for (const fn of [...this.unknownListeners]) fn(unknown);
    }
    return false;
  }

  /**
   * The replica missed changes (the feed saw a revision gap): it keeps its
   * contents for readers, but the next connection must ask for a snapshot.
   */
  markStale(): void {
    this._ready = false;
  }

  private notify(u: ReplicaUpdate): void {
    // The list as it is now: a listener may unsubscribe itself (or another) while called.
    for (const fn of this.listeners) fn(u);
  }

  private mapOf(entity: EntityKind): Map<string, unknown> {
    switch (entity) {
      case 'org':
        return this._orgs;
      case 'network':
        return this._networks;
      case 'app':
        return this._apps;
      case 'host':
        return this._hosts;
      case 'machine':
        return this._machines;
      case 'peer':
        return this._peers;
    }
  }

  /** Apply one op; returns what its key held before. */
  private applyOp(op: ChangeOp): Org | Network | App | Host | Machine | Peer | undefined {
    const map = this.mapOf(op.entity) as Map<string, Org | Network | App | Host | Machine | Peer>;
    const key = opKey(op);
    const was = map.get(key);
    if (op.op === 'delete' || (op.entity === 'machine' && machineGone(op.data))) map.delete(key);
    else map.set(key, op.data);
    return was;
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
