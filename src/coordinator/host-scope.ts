// What one host credential's watch stream carries: every host row, and
// the rows of the orgs the host carries (a live machine or a developer peer
// on it), nothing of any other org. A host needs no more: its DNS answers
// only its own machines and the developer peers it carries, and its WireGuard
// peer for another host routes that host's networks among the orgs it knows,
// which covers every network of its own. A change of another org costs it nothing, and a stolen
// host credential reads only the orgs that host runs. When a machine or peer
// of a new org lands on the host, that org's rows go out with the change
// (as they stand in the hub's state), and the org's ops up to there are not
// sent again. Orgs are never dropped while the stream lasts; a new stream
// starts from the orgs the host carries then.
import type { ChangeOp, ChangeRecord } from '../model/types.js';
import { SNAPSHOT_KINDS } from '../store/snapshot-pages.js';
import type { FleetState, OpOrg } from './fleet-state.js';
import { framedSnapshot, singleLineSnapshot } from './snapshot-frames.js';

/** Rows per snapshot_rows line. */
const PAGE = 1000;

export class HostScope {
  private readonly orgs = new Set<string>();
  /** org → the revision its rows were sent as of: its ops up to there are in them */
  private readonly sentAt = new Map<string, number>();

  constructor(
    readonly hostId: number,
    private readonly fleet: FleetState,
  ) {}

  /** How many orgs this stream carries. */
  get orgCount(): number {
    return this.orgs.size;
  }

  /** The stream's snapshot, framed for `proto`, as of the hub's state now; returns its revision. */
  snapshot(proto: number): { rev: number; bytes: Buffer[] } {
    this.orgs.clear();
    this.sentAt.clear();
    for (const o of this.fleet.orgsOn(this.hostId)) this.orgs.add(o);
    const rev = this.fleet.rev;
    const f = proto >= 2 ? framedSnapshot(proto) : singleLineSnapshot();
    const bytes = f.begin(rev);
    let rows = 0;
    for (const kind of SNAPSHOT_KINDS) {
      // Every stream sends the same host rows: serialized once per change of them (fleet-state.ts).
      const p = this.fleet.pages(kind, this.orgs, PAGE);
      rows += p.rows;
      for (const frag of p.frags) bytes.push(...f.rows(kind, frag));
    }
    bytes.push(...f.end(rev, rows));
    return { rev, bytes };
  }

  /**
   * The ops of `rec` this stream gets (maybe none, maybe with an org's rows
   * added), or 'whole' when every op passes as it is. `opOrgs` is what
   * FleetState.apply said of `rec`.
   */
  filter(rec: ChangeRecord, opOrgs: readonly OpOrg[]): ChangeOp[] | 'whole' {
    const out: ChangeOp[] = [];
    let same = true;
    rec.ops.forEach((op, i) => {
      const org = opOrgs[i];
      if (org === null || (org !== undefined && this.orgs.has(org) && !this.sentSince(org, rec.rev))) {
        out.push(op);
        return;
      }
      same = false;
      // undefined: a delete of something no replica holds. An org this host does not carry is
      // skipped, unless this op puts its first machine or peer here.
      if (org === undefined || this.orgs.has(org)) return;
      if (this.landsHere(op)) {
        this.orgs.add(org);
        this.sentAt.set(org, this.fleet.rev);
        for (const row of this.fleet.orgOps(org)) out.push(row);
      }
    });
    return same ? 'whole' : out;
  }

  /** Whether any of `recs` has an op this stream takes (or one that lands a new org here). */
  wants(recs: readonly ChangeRecord[], opOrgs: { get(r: ChangeRecord): readonly OpOrg[] | undefined }): boolean {
    for (const r of recs) {
      const orgs = opOrgs.get(r);
      if (!orgs) return true; // not known here: let the stream find out
      for (let i = 0; i < r.ops.length; i++) {
        const org = orgs[i];
        if (org === null || (org !== undefined && this.orgs.has(org))) return true;
        if (this.landsHere(r.ops[i]!)) return true;
      }
    }
    return false;
  }

  /** A machine or developer peer on this host (which brings its org along). */
  private landsHere(op: ChangeOp): boolean {
    return op.op === 'upsert' && (op.entity === 'machine' || op.entity === 'peer') && op.data.host_id === this.hostId;
  }

  /** Whether `org`'s rows went out as of `rev` or later (so its op at `rev` is in them). */
  private sentSince(org: string, rev: number): boolean {
    const at = this.sentAt.get(org);
    if (at === undefined) return false;
    if (rev <= at) return true;
    this.sentAt.delete(org);
    return false;
  }
}
