// One app's and one network's instances, shaped for lookups: the immutable
// parts of a DnsIndex (src/dns/index.ts) that a change rebuilds. Only what
// every lookup needs is made up front; the other views on first use.
import type { MachineHealth, MachinePort, MachineState, Peer } from '../model/types.js';
import { ipv6Nibbles } from './names.js';

/** A machine, or a peer that is an external instance of an app. */
export interface Instance {
  /** machine id, or the peer's name */
  id: string;
  app: string;
  region: string;
  address: string;
  group: string;
  metadata: Record<string, string>;
  state: MachineState;
  /** set for peers standing in as app instances */
  peer?: true;
  /** critical instances leave every answer but the `all.` forms, `vm.` and PTR */
  health?: MachineHealth;
  ports?: MachinePort[];
  /** lease names it holds */
  leases?: string[];
}

export const byId = (a: Instance, b: Instance): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/**
 * One app's instances, shaped for lookups. Only `all` is made up front: the
 * other views are built on the first query that needs them (a host's DNS is
 * asked about few of the apps a change rebuilds), then kept (indexes are
 * immutable).
 */
export class AppIndex {
  /** every instance (stopped, created, failed included), sorted by id */
  readonly all: Instance[];
  private _live?: Instance[];
  private _started?: Instance[];
  private _views?: AppViews;
  private _regions?: string[];
  private _allRegions?: string[];
  private _vms?: string[];
  private _allVms?: string[];

  /** `sorted`: `instances` is already sorted by id (and may be kept as it is) */
  constructor(
    readonly name: string,
    readonly networkId: number,
    instances: Instance[],
    sorted = false,
  ) {
    this.all = sorted ? instances : instances.slice().sort(byId);
  }

  /** started instances, critical ones included (`<id>.vm.` and PTR name one machine whatever its health) */
  get live(): Instance[] {
    return (this._live ??= this.all.filter((i) => i.state === 'started'));
  }
  /** started instances that are not critical, sorted by id: what the app's names answer */
  get started(): Instance[] {
    return (this._started ??= this.live.filter((i) => i.health !== 'critical'));
  }
  /** `_name._proto` → started healthy instances declaring that port */
  get byService(): ReadonlyMap<string, { i: Instance; port: number }[]> {
    return this.views().byService;
  }
  /** lease name → its holder, if started and healthy */
  get byLease(): ReadonlyMap<string, Instance> {
    return this.views().byLease;
  }
  get byRegion(): ReadonlyMap<string, Instance[]> {
    return this.views().byRegion;
  }
  get byGroup(): ReadonlyMap<string, Instance[]> {
    return this.views().byGroup;
  }
  /** `key=value` (value lowercased) → started instances */
  get byMeta(): ReadonlyMap<string, Instance[]> {
    return this.views().byMeta;
  }
  get metaKeys(): ReadonlySet<string> {
    return this.views().metaKeys;
  }

  private views(): AppViews {
    if (this._views) return this._views;
    const v: AppViews = { byService: new Map(), byLease: new Map(), byRegion: new Map(), byGroup: new Map(), byMeta: new Map(), metaKeys: new Set() };
    for (const i of this.started) {
      for (const p of i.ports ?? []) pushTo(v.byService, `_${p.name}._${p.protocol}`, { i, port: p.port });
      for (const l of i.leases ?? []) v.byLease.set(l, i);
      pushTo(v.byRegion, i.region, i);
      if (i.group) pushTo(v.byGroup, i.group.toLowerCase(), i);
      for (const [k, val] of Object.entries(i.metadata)) {
        const key = k.toLowerCase();
        v.metaKeys.add(key);
        pushTo(v.byMeta, `${key}=${String(val).toLowerCase()}`, i);
      }
    }
    return (this._views = v);
  }

  regions(): string[] {
    return (this._regions ??= uniqSorted(this.started.map((i) => i.region)));
  }
  allRegions(): string[] {
    return (this._allRegions ??= uniqSorted(this.all.map((i) => i.region)));
  }
  vms(): string[] {
    return (this._vms ??= this.started.map((i) => `${i.id} ${i.region}`));
  }
  allVms(): string[] {
    return (this._allVms ??= this.all.map((i) => `${i.id} ${i.region}`));
  }

  /** Started instance (critical or not) by full id or unambiguous id prefix. */
  findId(prefix: string): Instance | 'ambiguous' | null {
    const s = this.live;
    let lo = 0,
      hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]!.id < prefix) lo = mid + 1;
      else hi = mid;
    }
    const first = s[lo];
    if (!first || !first.id.startsWith(prefix)) return null;
    if (first.id === prefix) return first; // exact match wins over longer ids
    const next = s[lo + 1];
    return next && next.id.startsWith(prefix) ? 'ambiguous' : first;
  }
}

interface AppViews {
  byService: Map<string, { i: Instance; port: number }[]>;
  byLease: Map<string, Instance>;
  byRegion: Map<string, Instance[]>;
  byGroup: Map<string, Instance[]>;
  byMeta: Map<string, Instance[]>;
  metaKeys: Set<string>;
}

function uniqSorted(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}

export class NetworkIndex {
  private _appNames?: string[];
  private _peerNames?: string[];
  private _instances?: string[];
  private _allInstances?: string[];
  private _ptr?: Map<string, string>;

  constructor(
    readonly id: number,
    readonly apps: ReadonlyMap<string, AppIndex>,
    /** peer name → peer */
    readonly peers: ReadonlyMap<string, Peer>,
    /** revision of the last change that touched this network (SOA serial) */
    readonly serial: number,
  ) {}

  appNames(): string[] {
    return (this._appNames ??= [...this.apps.keys()].sort());
  }
  peerNames(): string[] {
    return (this._peerNames ??= [...this.peers.keys()].sort());
  }

  /** `_instances` items: `instance=<id>,app=<app>,ip=<addr>,region=<region>` */
  instances(): string[] {
    return (this._instances ??= this.instanceItems(false));
  }
  allInstances(): string[] {
    return (this._allInstances ??= this.instanceItems(true));
  }

  private instanceItems(all: boolean): string[] {
    const out: string[] = [];
    for (const name of this.appNames()) {
      const app = this.apps.get(name)!;
      for (const i of all ? app.all : app.started) out.push(`instance=${i.id},app=${i.app},ip=${i.address},region=${i.region}`);
    }
    return out;
  }

  /** 32 nibbles → PTR target; built on the first reverse query after a change. */
  ptr(nibbles: string): string | null {
    if (!this._ptr) {
      const m = new Map<string, string>();
      for (const app of this.apps.values()) {
        for (const i of app.live) {
          if (i.peer) continue;
          const n = ipv6Nibbles(i.address);
          if (n) m.set(n, `${i.id}.vm.${app.name}.internal`);
        }
      }
      for (const p of this.peers.values()) {
        const n = ipv6Nibbles(p.address);
        if (n) m.set(n, `${p.name}._peer.internal`);
      }
      this._ptr = m;
    }
    return this._ptr.get(nibbles) ?? null;
  }
}
