// The global revision and the change log a watcher resumes from. Every write
// that changes replicated state appends exactly one record, in its own
// transaction, so commit order is revision order.
import type { ChangeOp, ChangeRecord } from '../model/types.js';
import { now, type Tx } from './sql.js';

/** Bump the revision and append the change record; trim records older than `keep` now and then. */
export async function commitChange(tx: Tx, ops: readonly ChangeOp[], keep: number): Promise<number> {
  const row = await tx.get<{ rev: number | string }>('UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev');
  const rev = Number(row!.rev);
  await tx.run('INSERT INTO changes (rev, at, ops) VALUES (?, ?, ?)', [rev, now(), JSON.stringify(ops)]);
  if (rev % Math.min(1000, keep) === 0) await tx.run('DELETE FROM changes WHERE rev <= ?', [rev - keep]);
  return rev;
}

export async function headRev(tx: Tx): Promise<number> {
  return Number((await tx.get<{ rev: number | string }>('SELECT rev FROM revision WHERE id = 1'))!.rev);
}

/** Lowest revision a watcher may resume after without a snapshot. */
export async function oldestResumableRev(tx: Tx): Promise<number> {
  const r = await tx.get<{ m: number | string | null }>('SELECT MIN(rev) AS m FROM changes');
  const head = await headRev(tx);
  return r?.m == null ? head : Number(r.m) - 1;
}

export async function changesSince(tx: Tx, rev: number, limit: number): Promise<ChangeRecord[]> {
  const rows = await tx.all<{ rev: number | string; at: string; ops: string }>('SELECT rev, at, ops FROM changes WHERE rev > ? ORDER BY rev LIMIT ?', [
    rev,
    limit,
  ]);
  return rows.map((r) => ({ rev: Number(r.rev), at: r.at, ops: JSON.parse(r.ops) as ChangeOp[] }));
}
