// Sequential 32-bit ids (network ids, host ids) from the `sequences` table.
import { nextSequentialId } from '../addr/plan.js';
import type { Tx } from './sql.js';

/** Atomic increment (safe with several coordinators); never wraps. */
export async function nextId(tx: Tx, seq: 'network' | 'host'): Promise<number> {
  const row = await tx.get<{ last: number | string }>('UPDATE sequences SET last = last + 1 WHERE name = ? RETURNING last', [seq]);
  return nextSequentialId(Number(row!.last) - 1, seq);
}
