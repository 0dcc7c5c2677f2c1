// The whole replicated state as the feed hub sees it, kept in step with the
// ring: what a host-scoped watch stream (host-scope.ts) needs to know that a
// change record does not say. Which org each op belongs to (a delete carries
// only its key), which orgs each host carries (the scope a stream starts
// with), and every row of one org (sent when a host takes on a new org).
// Rows are kept as their JSON text: a snapshot is the text joined, and 100k
// machines are 100k flat strings the collector does not have to walk.
import { ENTITY_KINDS, entityKey, machineGone, type ChangeOp, type ChangeRecord, type EntityKind, type Machine, type State } from '../model/types.js';
import { opKey } from '../model/changes.js';
import { addCount } from '../nested-counts.js';
import { SNAPSHOT_KINDS, type SnapshotKind } from '../store/snapshot-pages.js';

/** The org an op belongs to; null: every host needs it (hosts). undefined: nobody's (a delete of an unknown key). */
export type OpOrg = string | null | undefined;

interface Row {
  /** null: a host (everyone's) */
  org: string | null;
  /** the host a machine or peer is on; -1: none */
  hostId: number;
  json: string;
}

type OrgKind = 'network' | 'app' | 'machine' | 'peer';
const ORG_KINDS: readonly OrgKind[] = ['network', 'app', 'machine', 'peer'];
const KIND_OF: Record<Exclude<SnapshotKind, 'regions'>, EntityKind> = {
  orgs: 'org',
  networks: 'network',
  apps: 'app',
  hosts: 'host',
  machines: 'machine',
  peers: 'peer',
};

/** A page of a snapshot: `rows` rows of one kind as JSON without brackets. */
export interface SnapshotFrag {
  kind: SnapshotKind;
  frag: Buffer;
  rows: number;
}

/** The whole state at one revision, its pages made as they are read. */
export interface FrozenSnapshot {
  rev: number;
  pages: Iterable<SnapshotFrag>;
}

export class FleetState {
  private readonly rows = new Map<EntityKind, Map<string, Row>>(ENTITY_KINDS.map((k) => [k, new Map()]));
  private regions: string[] = [];
  private _rev = 0;
  /** org → keys of its rows, per kind */
  private readonly byOrg = new Map<string, Record<OrgKind, Set<string>>>();
  /** host id → org → live machines and peers of that org on the host */
  private readonly carried = new Map<number, Map<string, number>>();
  /** bumped whenever a host row changes (the host rows of scoped snapshots are cached by it) */
  private hostsVersion = 0;
  private hostPages: { version: number; page: number; frags: Buffer[] } | null = null;

  get rev(): number {
    return this._rev;
  }

  get hostCount(): number {
    return this.rows.get('host')!.size;
  }

  /** Start over: empty at revision `rev` (then addRows, page by page). */
  reset(rev: number): void {
    for (const m of this.rows.values()) m.clear();
    this.regions = [];
    this.byOrg.clear();
    this.carried.clear();
    this.hostsVersion++;
    this._rev = rev;
  }

  /** One page of a snapshot's rows. */
  addRows(kind: SnapshotKind, rows: readonly unknown[]): void {
    if (kind === 'regions') {
      for (const r of rows) this.regions.push(JSON.stringify(r));
      return;
    }
    const entity = KIND_OF[kind];
    for (const r of rows) this.put(entity, entityKey(entity, r as never), r);
  }

  /** The whole state at once (tests, and what addRows does page by page). */
  load(rev: number, state: State): void {
    this.reset(rev);
    for (const [kind, rows] of Object.entries(state)) this.addRows(kind as SnapshotKind, rows as unknown[]);
  }

  /** Apply `rec`; answers each op's org, as the state stood just before that op. */
  apply(rec: ChangeRecord): OpOrg[] {
    const orgs = rec.ops.map((op) => {
      const key = opKey(op);
      if (op.op === 'delete') {
        const org = this.rows.get(op.entity)?.get(key)?.org;
        this.drop(op.entity, key);
        return org;
      }
      this.put(op.entity, key, op.data);
      return op.entity === 'host' ? null : op.entity === 'org' ? op.data.name : op.data.org;
    });
    this._rev = rec.rev;
    return orgs;
  }

  private put(kind: EntityKind, key: string, data: unknown): void {
    if (kind === 'machine' && machineGone(data as Machine)) {
      this.drop(kind, key);
      return;
    }
    const map = this.rows.get(kind);
    if (!map) return; // a kind this version does not know
    if (kind === 'host') this.hostsVersion++;
    this.unindex(kind, key, map.get(key));
    const d = data as { org?: string; name?: string; host_id?: number };
    const row: Row = {
      org: kind === 'host' ? null : kind === 'org' ? d.name! : d.org!,
      hostId: kind === 'machine' || kind === 'peer' ? d.host_id! : -1,
      json: JSON.stringify(data),
    };
    map.set(key, row);
    if (row.org !== null && kind !== 'org') this.orgRows(row.org)[kind as OrgKind].add(key);
    if (row.hostId >= 0 && row.org !== null) this.carry(row.hostId, row.org, 1);
  }

  private drop(kind: EntityKind, key: string): void {
    const map = this.rows.get(kind);
    const was = map?.get(key);
    if (!map || !was) return;
    if (kind === 'host') this.hostsVersion++;
    this.unindex(kind, key, was);
    map.delete(key);
  }

  private unindex(kind: EntityKind, key: string, was: Row | undefined): void {
    if (!was || was.org === null) return;
    if (kind !== 'org') this.byOrg.get(was.org)?.[kind as OrgKind].delete(key);
    if (was.hostId >= 0) this.carry(was.hostId, was.org, -1);
  }

  private carry(hostId: number, org: string, by: 1 | -1): void {
    addCount(this.carried, hostId, org, by);
  }

  private orgRows(org: string): Record<OrgKind, Set<string>> {
    let r = this.byOrg.get(org);
    if (!r) this.byOrg.set(org, (r = { network: new Set(), app: new Set(), machine: new Set(), peer: new Set() }));
    return r;
  }

  /** The orgs with a live machine or a peer on `hostId`. */
  orgsOn(hostId: number): string[] {
    return [...(this.carried.get(hostId)?.keys() ?? [])];
  }

  /** Every row of `org`, as upserts (org, networks, apps, machines, peers: the order a replica needs them in). */
  orgOps(org: string): ChangeOp[] {
    const out: ChangeOp[] = [];
    const o = this.rows.get('org')!.get(org);
    if (o) out.push({ entity: 'org', op: 'upsert', data: JSON.parse(o.json) } as ChangeOp);
    const keys = this.byOrg.get(org);
    if (!keys) return out;
    for (const kind of ORG_KINDS) {
      const map = this.rows.get(kind)!;
      for (const k of keys[kind]) out.push({ entity: kind, op: 'upsert', data: JSON.parse(map.get(k)!.json) } as ChangeOp);
    }
    return out;
  }

  /**
   * The rows of `kind` a host carrying `orgs` sees (every region and host;
   * those orgs' others), as JSON pages of `page` rows without brackets, and
   * how many rows. A kind with none is one empty page.
   */
  pages(kind: SnapshotKind, orgs: Iterable<string>, page: number): { frags: Buffer[]; rows: number } {
    if (kind === 'hosts') return { frags: this.hostFrags(page), rows: this.hostCount };
    let texts: string[];
    if (kind === 'regions') texts = this.regions;
    else {
      const entity = KIND_OF[kind];
      const map = this.rows.get(entity)!;
      texts = [];
      for (const org of orgs) {
        if (entity === 'org') {
          const o = map.get(org);
          if (o) texts.push(o.json);
          continue;
        }
        for (const k of this.byOrg.get(org)?.[entity as OrgKind] ?? []) texts.push(map.get(k)!.json);
      }
    }
    return { frags: [...pageTexts(texts, page)].map((p) => p.frag), rows: texts.length };
  }

  /**
   * The whole state as it is now, in Store.snapshot()'s order (each kind by
   * its key, bytewise as both stores compare text), in pages of `page` rows.
   * Only the list of row texts is copied: the texts are immutable, so later
   * changes do not reach a snapshot being written.
   */
  freeze(page: number): FrozenSnapshot {
    const texts = SNAPSHOT_KINDS.map((kind): [SnapshotKind, string[]] => [kind, kind === 'regions' ? this.regions.slice() : this.sortedTexts(KIND_OF[kind])]);
    function* pages(): Generator<SnapshotFrag> {
      for (const [kind, t] of texts) for (const p of pageTexts(t, page)) yield { kind, ...p };
    }
    return { rev: this._rev, pages: pages() };
  }

  private sortedTexts(kind: EntityKind): string[] {
    const map = this.rows.get(kind)!;
    const keys = [...map.keys()];
    if (kind === 'host' || kind === 'network') keys.sort((a, b) => Number(a) - Number(b));
    else if (kind === 'peer') keys.sort(byPeerKey);
    else keys.sort(); // code-unit order: bytewise for the ASCII names and ids
    return keys.map((k) => map.get(k)!.json);
  }

  /** Every host row as JSON pages of `page` rows, shared until a host changes. */
  private hostFrags(page: number): Buffer[] {
    const c = this.hostPages;
    if (c && c.version === this.hostsVersion && c.page === page) return c.frags;
    const frags = [
      ...pageTexts(
        [...this.rows.get('host')!.values()].map((r) => r.json),
        page,
      ),
    ].map((p) => p.frag);
    this.hostPages = { version: this.hostsVersion, page, frags };
    return frags;
  }
}

/** `org/name` keys by org, then name (not as one string: `-` sorts before `/`). */
function byPeerKey(a: string, b: string): number {
  const i = a.indexOf('/');
  const j = b.indexOf('/');
  const ao = a.slice(0, i);
  const bo = b.slice(0, j);
  if (ao !== bo) return ao < bo ? -1 : 1;
  const an = a.slice(i + 1);
  const bn = b.slice(j + 1);
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** Row texts as JSON pages of `page` rows without brackets, made as they are read; none is one empty page. */
function* pageTexts(texts: readonly string[], page: number): Generator<{ frag: Buffer; rows: number }> {
  if (texts.length === 0) yield { frag: Buffer.alloc(0), rows: 0 };
  for (let i = 0; i < texts.length; i += page) yield { frag: Buffer.from(texts.slice(i, i + page).join(',')), rows: Math.min(page, texts.length - i) };
}
