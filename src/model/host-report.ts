// What a host's agent reports with its heartbeat, and how the API shows it on
// the host (`hosts list|show`, `sixpn status`). Not part of the feed: it
// changes every few seconds, so it takes no revision. Ages, not clock times,
// travel from the agent: the coordinator turns them into times on its own
// clock, so a host with a skewed clock still reports right.

/** A replica's progress: its revision, and how long ago (ms) it last applied a change or snapshot (null: nothing yet). */
export interface ReplicaProgress {
  rev: number;
  last_change_ms: number | null;
}

/** One mesh peer (another host) as the reporting host's WireGuard device sees it (`wg show dump`). */
export interface HostPeerReport {
  host_id: number;
  /** seconds since the latest handshake with it; null: none since the device came up */
  handshake_age_s: number | null;
  endpoint: string | null;
  rx_bytes: number;
  tx_bytes: number;
  /** its tx bytes grew in the last 30 s: something (data or handshake attempts) is being sent to it */
  sending: boolean;
}

/** The body of `PUT /v1/hosts/:id/heartbeat` (optional: a bare heartbeat still works). */
export interface HostReport {
  /** the agent's replica (its WireGuard, routes and machines follow it) */
  agent: ReplicaProgress;
  /** the replica of the host's DNS server (a worker thread); null when the agent serves no DNS */
  dns: ReplicaProgress | null;
  peers: HostPeerReport[];
}

/** How far a replica trails the coordinator, as of the report. */
export interface FeedLagView {
  rev: number;
  /** the coordinator's revision when the report arrived */
  coordinator_rev: number;
  /** revisions behind (coordinator_rev - rev, at least 0) */
  lag: number;
  /** how long the oldest change it had not applied had been committed, at the report (0 when caught up; null: no longer in the change log) */
  lag_s: number | null;
  /** seconds since it last applied a change, now; null: nothing yet */
  last_change_s: number | null;
}

export interface HostPeerView {
  host_id: number;
  /** seconds since the latest handshake, now; null: none reported */
  handshake_age_s: number | null;
  /** ISO time of the latest handshake (coordinator's clock); null: none */
  latest_handshake: string | null;
  endpoint: string | null;
  rx_bytes: number;
  tx_bytes: number;
  sending: boolean;
}

/** A host's last report as the API shows it; null on a host whose agent never sent one (or is older). */
export interface HostReportView {
  reported_at: string;
  agent: FeedLagView;
  dns: FeedLagView | null;
  peers: HostPeerView[];
}

/** A handshake this old means the session keys expired (WireGuard's Reject-After-Time, 180 s). */
export const HANDSHAKE_STALE_S = 180;
/** A replica whose oldest unapplied change waited longer than this is a problem (`sixpn status`). */
export const FEED_LAG_PROBLEM_S = 30;
