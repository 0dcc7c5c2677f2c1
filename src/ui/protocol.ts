// Lines of the dashboard's stream, `GET /v1/ui/stream` (NDJSON). Shared by the
// coordinator, which writes them already filtered to the token's scope, and the page.
import type { ChangeOp, State } from '../model/types.js';

/** A gateway's last report on one developer peer (not part of the feed: it changes every few seconds). */
export interface PeerStatusView {
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string | null;
  reported_at: string;
}

/** Keyed `org/name`; null when the peer has no report (yet). */
export type PeerStatusMap = Record<string, PeerStatusView | null>;

export type UiMessage =
  | { type: 'hello'; scope: string; org: string | null }
  | { type: 'snapshot'; rev: number; state: State; peer_status: PeerStatusMap }
  | { type: 'change'; rev: number; at: string; ops: ChangeOp[] }
  | { type: 'peer_status'; status: PeerStatusMap }
  | { type: 'heartbeat'; rev: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'bye'; rev: number; reason: string }
  | { type: 'host_status'; status: HostStatusMap };

/** One host's handshake with another host the page shows, from its agent's last heartbeat report (ISO, coordinator clock; null: none yet). */
export interface HostLinkView {
  host_id: number;
  latest_handshake: string | null;
}

/** Keyed host id; only hosts whose agent has reported. */
export type HostStatusMap = Record<string, HostLinkView[]>;

export const UI_STREAM_PATH = '/v1/ui/stream';
