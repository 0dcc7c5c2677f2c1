// The snapshot framings put together from pages: the single line parses to
// exactly the old `snapshot` message (empty kinds included), the framed lines
// reassemble to the same state, and a page's rows are the same bytes in both.
import assert from 'node:assert/strict';
import { framedSnapshot, singleLineSnapshot, type SnapshotFramer } from '../../src/coordinator/snapshot-frames.js';

/** One page's rows as JSON without the brackets, as fleet-state.ts joins them. */
const fragOf = (rows: readonly unknown[]): Buffer => (rows.length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(rows).slice(1, -1)));
import type { State } from '../../src/model/types.js';
import { SNAPSHOT_KINDS, type SnapshotKind } from '../../src/store/snapshot-pages.js';

const NOW = '2026-01-01T00:00:00.000Z';

/** Pages as snapshotPages yields them: every kind at least once (an empty first page when it has none). */
function pagesOf(state: State, size: number): { kind: SnapshotKind; rows: unknown[] }[] {
  const out: { kind: SnapshotKind; rows: unknown[] }[] = [];
  for (const kind of SNAPSHOT_KINDS) {
    const rows = state[kind] as unknown[];
    if (rows.length === 0) out.push({ kind, rows: [] });
    for (let i = 0; i < rows.length; i += size) out.push({ kind, rows: rows.slice(i, i + size) });
  }
  return out;
}

function render(f: SnapshotFramer, rev: number, state: State, size: number): string {
  const bufs: Buffer[] = [...f.begin(rev)];
  let n = 0;
  for (const p of pagesOf(state, size)) {
    n += p.rows.length;
    bufs.push(...f.rows(p.kind, fragOf(p.rows)));
  }
  bufs.push(...f.end(rev, n));
  return Buffer.concat(bufs).toString();
}

const STATES: State[] = [
  { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] },
  {
    regions: [{ code: 'ams', name: 'Amsterdam', latitude: 52.3, longitude: 4.9 }],
    orgs: [
      { name: 'acme', network_id: 1, created_at: NOW },
      { name: 'b"eta\\', network_id: 2, created_at: NOW },
      { name: 'ünï', network_id: 3, created_at: NOW },
    ],
    networks: [],
    apps: [{ name: 'web', org: 'acme', network_id: 1, created_at: NOW }],
    hosts: [],
    machines: [],
    peers: [],
  },
];

describe('snapshot framings', () => {
  for (const [i, state] of STATES.entries())
    for (const size of [1, 2, 500]) {
      it(`state ${i}, pages of ${size}: the single line is the old snapshot message`, () => {
        const text = render(singleLineSnapshot(), 7, state, size);
        assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'one line');
        assert.deepEqual(JSON.parse(text), { type: 'snapshot', proto: 1, rev: 7, state });
        assert.deepEqual(Object.keys(JSON.parse(text).state), SNAPSHOT_KINDS, 'every kind, in order');
      });

      it(`state ${i}, pages of ${size}: the framed lines reassemble to the state`, () => {
        const lines = render(framedSnapshot(2), 7, state, size)
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; kind?: SnapshotKind; rows?: unknown[] | number; rev?: number; proto?: number });
        assert.deepEqual(lines[0], { type: 'snapshot_begin', proto: 2, rev: 7 });
        const got: State = { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] };
        for (const l of lines.slice(1, -1)) {
          assert.equal(l.type, 'snapshot_rows');
          assert.ok(Array.isArray(l.rows) && l.rows.length > 0, 'no empty row lines');
          (got[l.kind!] as unknown[]).push(...(l.rows as unknown[]));
        }
        assert.deepEqual(got, state);
        const total = SNAPSHOT_KINDS.reduce((n, k) => n + state[k].length, 0);
        assert.deepEqual(lines.at(-1), { type: 'snapshot_end', rev: 7, rows: total });
      });
    }
});
