// The whole replicated state as the feed hub sees it, kept in step with the
// ring: what a host-scoped watch stream (host-scope.ts) needs to know that a
// change record does not say. Which org each op belongs to (a delete carries
// only its key), which orgs each host carries (the scope a stream starts
// with), and every row of one org (sent when a host takes on a new org).
import { Replica } from '../feed/replica.js';
import { fragOf } from './snapshot-frames.js';
import { opKey } from '../model/changes.js';
import type { App, ChangeOp, ChangeRecord, Machine, Network, Org, Peer, State } from '../model/types.js';

/** The org an op belongs to; null: every host needs it (hosts). undefined: nobody's (a delete of an unknown key). */
export type OpOrg = string | null | undefined;

interface OrgRows {
  networks: Set<string>;
  apps: Set<string>;
  machines: Set<string>;
  peers: Set<string>;
}

const gone = (m: Machine): boolean => m.state === 'destroyed' || m.state === 'lost';

export class FleetState {
  private readonly replica = new Replica();
  /** org → keys of its rows, as the replica keys them */
  private readonly byOrg = new Map<string, OrgRows>();
  /** host id → org → live machines and peers of that org on the host */
  private readonly carried = new Map<number, Map<string, number>>();
  /** bumped whenever a host row changes (the host rows of scoped snapshots are cached by it) */
  private hostsVersion = 0;
  private hostPages: { version: number; page: number; frags: Buffer[] } | null = null;

  constructor() {
    // Every change's ops with what their keys held before, as the replica applied them.
    this.replica.subscribe((u) => u.ops?.forEach((op, i) => this.index(op, u.before?.[i])));
  }

  get rev(): number {
    return this.replica.rev;
  }

  /** Every host row as JSON pages of `page` rows (no brackets), shared until a host changes. */
  hostFrags(page: number): Buffer[] {
    const c = this.hostPages;
    if (c && c.version === this.hostsVersion && c.page === page) return c.frags;
    const rows = [...this.replica.hosts.values()];
    const frags: Buffer[] = rows.length ? [] : [Buffer.alloc(0)];
    for (let i = 0; i < rows.length; i += page) frags.push(fragOf(rows.slice(i, i + page)));
    this.hostPages = { version: this.hostsVersion, page, frags };
    return frags;
  }

  load(rev: number, state: State): void {
    this.replica.applySnapshot(rev, state);
    this.byOrg.clear();
    this.carried.clear();
    this.hostsVersion++;
    for (const n of this.replica.networks.values()) this.rows(n.org).networks.add(String(n.id));
    for (const [k, a] of this.replica.apps) this.rows(a.org).apps.add(k);
    for (const [k, m] of this.replica.machines) this.place('machines', k, undefined, m);
    for (const [k, p] of this.replica.peers) this.place('peers', k, undefined, p);
  }

  /** Each op's org, as the state stood before `rec`; then `rec` applied. */
  apply(rec: ChangeRecord): OpOrg[] {
    // A delete of what an earlier op of the same record made is of that op's org.
    const made = new Map<string, string>();
    const orgs = rec.ops.map((op) => {
      const key = `${op.entity}:${opKey(op)}`;
      const org = op.op === 'delete' && made.has(key) ? made.get(key) : this.orgOf(op);
      if (op.op === 'upsert' && org) made.set(key, org);
      return org;
    });
    this.replica.applyChange(rec);
    if (rec.ops.some((op) => op.entity === 'host')) this.hostsVersion++;
    return orgs;
  }

  private orgOf(op: ChangeOp): OpOrg {
    if (op.entity === 'host') return null;
    if (op.op === 'upsert') return op.entity === 'org' ? op.data.name : op.data.org;
    const r = this.replica;
    switch (op.entity) {
      case 'org':
        return r.orgs.has(op.key) ? op.key : undefined;
      case 'network':
        return r.networks.get(op.key)?.org;
      case 'app':
        return r.apps.get(op.key)?.org;
      case 'machine':
        return r.machines.get(op.key)?.org;
      case 'peer':
        return r.peers.get(op.key)?.org;
    }
  }

  private index(op: ChangeOp, was: unknown): void {
    const key = opKey(op);
    const now = op.op === 'upsert' && !(op.entity === 'machine' && gone(op.data)) ? op.data : undefined;
    switch (op.entity) {
      case 'network':
      case 'app': {
        const set = op.entity === 'network' ? 'networks' : 'apps';
        if (was) this.byOrg.get((was as Network | App).org)?.[set].delete(key);
        if (now) this.rows((now as Network | App).org)[set].add(key);
        break;
      }
      case 'machine':
      case 'peer':
        this.place(op.entity === 'machine' ? 'machines' : 'peers', key, was as Machine | Peer | undefined, now as Machine | Peer | undefined);
        break;
      default:
        break;
    }
  }

  private place(set: 'machines' | 'peers', key: string, was: Machine | Peer | undefined, now: Machine | Peer | undefined): void {
    if (was) {
      this.byOrg.get(was.org)?.[set].delete(key);
      this.carry(was.host_id, was.org, -1);
    }
    if (now) {
      this.rows(now.org)[set].add(key);
      this.carry(now.host_id, now.org, 1);
    }
  }

  private carry(hostId: number, org: string, by: 1 | -1): void {
    let orgs = this.carried.get(hostId);
    if (!orgs) this.carried.set(hostId, (orgs = new Map()));
    const n = (orgs.get(org) ?? 0) + by;
    if (n > 0) orgs.set(org, n);
    else {
      orgs.delete(org);
      if (!orgs.size) this.carried.delete(hostId);
    }
  }

  private rows(org: string): OrgRows {
    let r = this.byOrg.get(org);
    if (!r) this.byOrg.set(org, (r = { networks: new Set(), apps: new Set(), machines: new Set(), peers: new Set() }));
    return r;
  }

  /** The orgs with a live machine or a peer on `hostId`. */
  orgsOn(hostId: number): string[] {
    return [...(this.carried.get(hostId)?.keys() ?? [])];
  }

  /** Every row of `org`, as upserts (org, networks, apps, machines, peers: the order a replica needs them in). */
  orgOps(org: string): ChangeOp[] {
    const r = this.replica;
    const out: ChangeOp[] = [];
    const o = r.orgs.get(org);
    if (o) out.push({ entity: 'org', op: 'upsert', data: o });
    const rows = this.byOrg.get(org);
    if (!rows) return out;
    for (const k of rows.networks) out.push({ entity: 'network', op: 'upsert', data: r.networks.get(k)! });
    for (const k of rows.apps) out.push({ entity: 'app', op: 'upsert', data: r.apps.get(k)! });
    for (const k of rows.machines) out.push({ entity: 'machine', op: 'upsert', data: r.machines.get(k)! });
    for (const k of rows.peers) out.push({ entity: 'peer', op: 'upsert', data: r.peers.get(k)! });
    return out;
  }

  get hostCount(): number {
    return this.replica.hosts.size;
  }

  /** The rows a host carrying `orgs` sees but the host rows (hostFrags): regions, and those orgs' rows. */
  scoped(orgs: Iterable<string>): State {
    const r = this.replica;
    const out: State = { regions: [...r.regions.values()], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] };
    for (const org of orgs) {
      for (const op of this.orgOps(org)) {
        if (op.op !== 'upsert') continue;
        switch (op.entity) {
          case 'org':
            out.orgs.push(op.data as Org);
            break;
          case 'network':
            out.networks.push(op.data as Network);
            break;
          case 'app':
            out.apps.push(op.data as App);
            break;
          case 'machine':
            out.machines.push(op.data as Machine);
            break;
          case 'peer':
            out.peers.push(op.data as Peer);
            break;
          default:
            break;
        }
      }
    }
    return out;
  }
}
