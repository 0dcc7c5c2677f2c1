// How a streamed snapshot is framed on the wire, per feed protocol. Each page
// of rows is serialized once (a `frag`: the rows joined by commas) and the
// same bytes go to every watcher; only the few bytes around them differ.
//   proto 2: a snapshot_begin line, one snapshot_rows line per page, a snapshot_end line.
//   proto 1 (a client that did not ask for 2): the one `snapshot` line older
//   sixpn reads, written piece by piece so it is never held whole in memory.
import type { SnapshotKind } from '../store/snapshot-pages.js';

export interface SnapshotFramer {
  begin(rev: number): Buffer[];
  rows(kind: SnapshotKind, frag: Buffer): Buffer[];
  end(rev: number, rows: number): Buffer[];
}

const b = (s: string): Buffer => Buffer.from(s);
const CLOSE_ROWS = b(']}\n');
const COMMA = b(',');

/** The proto 2 framing: every line stands alone. */
export function framedSnapshot(proto: number): SnapshotFramer {
  const heads = new Map<SnapshotKind, Buffer>();
  return {
    begin: (rev) => [b(`${JSON.stringify({ type: 'snapshot_begin', proto, rev })}\n`)],
    rows: (kind, frag) => {
      if (frag.length === 0) return [];
      let head = heads.get(kind);
      if (!head) heads.set(kind, (head = b(`{"type":"snapshot_rows","kind":${JSON.stringify(kind)},"rows":[`)));
      return [head, frag, CLOSE_ROWS];
    },
    end: (rev, rows) => [b(`${JSON.stringify({ type: 'snapshot_end', rev, rows })}\n`)],
  };
}

/** The proto 1 framing: one `{"type":"snapshot","proto":1,"rev":R,"state":{...}}` line. */
export function singleLineSnapshot(): SnapshotFramer {
  let kind: SnapshotKind | null = null;
  let empty = true;
  return {
    begin: (rev) => [b(`{"type":"snapshot","proto":1,"rev":${rev},"state":{`)],
    rows: (k, frag) => {
      const out: Buffer[] = [];
      if (k !== kind) {
        out.push(b(`${kind === null ? '' : '],'}${JSON.stringify(k)}:[`));
        kind = k;
        empty = true;
      }
      if (frag.length > 0) {
        if (!empty) out.push(COMMA);
        out.push(frag);
        empty = false;
      }
      return out;
    },
    end: () => [b(`${kind === null ? '' : ']'}}}\n`)],
  };
}
