// The replicated state read page by page inside one read view, so a snapshot
// can be written row by row: each kind in the order a State lists it, its rows
// in the same order as Store.snapshot(), by keyset (never OFFSET: a page costs
// the same at the end of 100k machines as at the start).
import type { State } from '../model/types.js';
import * as apps from './apps.js';
import * as hosts from './hosts.js';
import * as machines from './machines.js';
import * as networks from './networks.js';
import * as orgs from './orgs.js';
import * as peers from './peers.js';
import * as regions from './regions.js';
import { headRev } from './changes.js';
import type { SqlBackend, Tx } from './sql.js';

export type SnapshotKind = keyof State;

/** The kinds in State's order (the order a snapshot is written in). */
export const SNAPSHOT_KINDS: readonly SnapshotKind[] = ['regions', 'orgs', 'networks', 'apps', 'hosts', 'machines', 'peers'];

export interface SnapshotPage {
  kind: SnapshotKind;
  /** up to one page of rows; the first page of a kind may be empty (the kind has none) */
  rows: State[SnapshotKind][number][];
}

type Pager = (tx: Tx, after: unknown, limit: number) => Promise<{ rows: unknown[]; last: unknown }>;

function pager<T, K>(page: (tx: Tx, after: K | null, limit: number) => Promise<T[]>, key: (row: T) => K): Pager {
  return async (tx, after, limit) => {
    const rows = await page(tx, after as K | null, limit);
    return { rows, last: rows.length ? key(rows[rows.length - 1]!) : after };
  };
}

const PAGERS: Record<SnapshotKind, Pager> = {
  regions: pager(regions.regionsPage, (r) => r.code),
  orgs: pager(orgs.orgsPage, (o) => o.name),
  networks: pager(networks.networksPage, (n) => n.id),
  apps: pager(apps.appsPage, (a) => a.name),
  hosts: pager(hosts.hostsPage, (h) => h.id),
  machines: pager(machines.liveMachinesPage, (m) => m.id),
  peers: pager(peers.peersPage, (p) => ({ org: p.org, name: p.name })),
};

/** Every kind's rows, page by page; read them all within the transaction of `tx`. */
export async function* snapshotPages(tx: Tx, pageSize: number): AsyncGenerator<SnapshotPage> {
  for (const kind of SNAPSHOT_KINDS) {
    let after: unknown = null;
    for (let first = true; ; first = false) {
      const { rows, last } = await PAGERS[kind](tx, after, pageSize);
      if (rows.length > 0 || first) yield { kind, rows: rows as SnapshotPage['rows'] };
      if (rows.length < pageSize) break;
      after = last;
    }
  }
}

/**
 * The same state as Store.snapshot, handed to `fn` page by page from one read
 * view of its own, so `fn` may write each page out and wait for its reader.
 */
export function streamSnapshot<T>(backend: SqlBackend, fn: (rev: number, pages: AsyncIterable<SnapshotPage>) => Promise<T>, pageSize = 500): Promise<T> {
  return backend.readAlone(async (tx) => fn(await headRev(tx), snapshotPages(tx, pageSize)));
}
