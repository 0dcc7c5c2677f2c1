// Host reports: what each agent last said with its heartbeat (handshakes
// with the other hosts, its and its DNS server's replica revisions). One row
// per host, replaced at every report, outside the feed (no revision). Ages
// arrive from the agent and are kept as times on the coordinator's clock.
import type { FeedLagView, HostPeerView, HostReport, HostReportView, ReplicaProgress } from '../model/host-report.js';
import { headRev } from './changes.js';
import type { Tx } from './sql.js';

interface StoredProgress {
  rev: number;
  /** epoch ms of its last applied change; null: none */
  change_ms: number | null;
  /** how long the oldest unapplied change had waited at the report (ms); null: unknown */
  behind_ms: number | null;
}
interface StoredPeer {
  host_id: number;
  handshake_ms: number | null;
  endpoint: string | null;
  rx_bytes: number;
  tx_bytes: number;
  sending: boolean;
}
interface Stored {
  coordinator_rev: number;
  agent: StoredProgress;
  dns: StoredProgress | null;
  peers: StoredPeer[];
}

export interface ReportRow {
  report_ms?: number | string | null;
  report?: string | null;
}

/** Columns to add to a `hosts h` query: `... LEFT JOIN host_reports r ON r.host_id = h.id`. */
export const REPORT_COLUMNS = 'r.reported_ms AS report_ms, r.report AS report';
export const REPORT_JOIN = 'LEFT JOIN host_reports r ON r.host_id = h.id';

async function progress(tx: Tx, p: ReplicaProgress, head: number, atMs: number): Promise<StoredProgress> {
  let behind: number | null = 0;
  if (p.rev < head) {
    // The commit time of the first change it lacks: how long it has been waiting.
    const first = await tx.get<{ at: string }>('SELECT at FROM changes WHERE rev = ?', [p.rev + 1]);
    behind = first ? Math.max(0, atMs - Date.parse(first.at)) : null;
  }
  return { rev: p.rev, change_ms: p.last_change_ms === null ? null : atMs - p.last_change_ms, behind_ms: behind };
}

/**
 * Replace the host's report. Peers that are not (or no longer) enrolled
 * hosts, and the host itself, are dropped: an agent's replica may trail a
 * removal by a moment.
 */
export async function writeHostReport(tx: Tx, hostId: number, r: HostReport, atMs: number): Promise<void> {
  const head = await headRev(tx);
  const live = new Set((await tx.all<{ id: number | string }>('SELECT id FROM hosts WHERE removed_at IS NULL')).map((h) => Number(h.id)));
  const stored: Stored = {
    coordinator_rev: head,
    agent: await progress(tx, r.agent, head, atMs),
    dns: r.dns ? await progress(tx, r.dns, head, atMs) : null,
    peers: r.peers
      .filter((p) => p.host_id !== hostId && live.has(p.host_id))
      .map((p) => ({
        host_id: p.host_id,
        handshake_ms: p.handshake_age_s === null ? null : atMs - p.handshake_age_s * 1000,
        endpoint: p.endpoint,
        rx_bytes: p.rx_bytes,
        tx_bytes: p.tx_bytes,
        sending: p.sending,
      })),
  };
  await tx.run(
    `INSERT INTO host_reports (host_id, reported_ms, report) VALUES (?, ?, ?)
     ON CONFLICT (host_id) DO UPDATE SET reported_ms = excluded.reported_ms, report = excluded.report`,
    [hostId, atMs, JSON.stringify(stored)],
  );
}

export async function deleteHostReport(tx: Tx, hostId: number): Promise<void> {
  await tx.run('DELETE FROM host_reports WHERE host_id = ?', [hostId]);
}

const ageS = (ms: number | null, nowMs: number): number | null => (ms === null ? null : Math.max(0, Math.round((nowMs - ms) / 1000)));

function lagView(p: StoredProgress, head: number, nowMs: number): FeedLagView {
  return {
    rev: p.rev,
    coordinator_rev: head,
    lag: Math.max(0, head - p.rev),
    lag_s: p.behind_ms === null ? null : Math.round(p.behind_ms / 1000),
    last_change_s: ageS(p.change_ms, nowMs),
  };
}

/** The API's view of a joined report row; `live` (when given) keeps only peers that are still hosts. */
export function toReportView(row: ReportRow, nowMs: number, live?: ReadonlySet<number>): HostReportView | null {
  if (row.report_ms === null || row.report_ms === undefined || !row.report) return null;
  const s = JSON.parse(row.report) as Stored;
  const peers: HostPeerView[] = s.peers
    .filter((p) => !live || live.has(p.host_id))
    .map((p) => ({
      host_id: p.host_id,
      handshake_age_s: ageS(p.handshake_ms, nowMs),
      latest_handshake: p.handshake_ms === null ? null : new Date(p.handshake_ms).toISOString(),
      endpoint: p.endpoint,
      rx_bytes: p.rx_bytes,
      tx_bytes: p.tx_bytes,
      sending: p.sending,
    }));
  return {
    reported_at: new Date(Number(row.report_ms)).toISOString(),
    agent: lagView(s.agent, s.coordinator_rev, nowMs),
    dns: s.dns ? lagView(s.dns, s.coordinator_rev, nowMs) : null,
    peers,
  };
}
