// What the agent reports with its heartbeat (src/model/host-report.ts): the
// other hosts as its WireGuard device sees them (handshake ages, bytes, and
// whether it is sending to them, the sign that a missing handshake matters),
// and how far its replicas have got: its own and its DNS worker's.
import type { Replica } from '../feed/replica.js';
import type { HostPeerReport, HostReport, ReplicaProgress } from '../model/host-report.js';
import type { WgDump } from '../wg/dump.js';
import type { WgPort } from './ports.js';

/** A replica's revision and when it last moved (epoch ms; null: not since start). */
export interface ReplicaMark {
  rev: number;
  at: number | null;
}

export const progressOf = (m: ReplicaMark, nowMs: number): ReplicaProgress => ({
  rev: m.rev,
  last_change_ms: m.at === null ? null : Math.max(0, nowMs - m.at),
});

/**
 * A peer counts as sent to when its tx bytes grew within this window: a
 * handshake that gets no answer is retried every 5 s (WireGuard's
 * Rekey-Timeout), so growth is seen whatever the report interval.
 */
export const SENDING_WINDOW_MS = 30_000;

/** Per key: its tx bytes at the last report, and when they last grew (null: not seen to). */
export type TxSeen = Map<string, { tx: number; grewAt: number | null }>;

/**
 * The mesh peers of `dump` (developer peers are left out), by the host that
 * owns each key. `seen` is updated here; a key seen for the first time
 * counts as not sending.
 */
export function hostPeerReports(dump: WgDump, hostOf: ReadonlyMap<string, number>, seen: TxSeen, nowMs: number): HostPeerReport[] {
  const out: HostPeerReport[] = [];
  const present = new Set<string>();
  for (const p of dump.peers) {
    const hostId = hostOf.get(p.publicKey);
    if (hostId === undefined) continue;
    present.add(p.publicKey);
    const before = seen.get(p.publicKey);
    const grewAt = before && p.txBytes > before.tx ? nowMs : (before?.grewAt ?? null);
    seen.set(p.publicKey, { tx: p.txBytes, grewAt });
    out.push({
      host_id: hostId,
      handshake_age_s: p.latestHandshake > 0 ? Math.max(0, Math.round(nowMs / 1000 - p.latestHandshake)) : null,
      endpoint: p.endpoint,
      rx_bytes: p.rxBytes,
      tx_bytes: p.txBytes,
      sending: grewAt !== null && nowMs - grewAt <= SENDING_WINDOW_MS,
    });
  }
  for (const k of [...seen.keys()]) if (!present.has(k)) seen.delete(k);
  return out.sort((a, b) => a.host_id - b.host_id);
}

/** Builds the heartbeat report; it follows the agent's replica from construction. */
export class HostReporter {
  private readonly mark: ReplicaMark;
  private readonly txSeen: TxSeen = new Map();
  readonly stop: () => void;

  constructor(
    private readonly o: {
      replica: Replica;
      wg: WgPort;
      iface: string;
      /** the DNS worker's replica; null when the agent serves no DNS */
      dns: () => ReplicaMark | null;
    },
  ) {
    this.mark = { rev: o.replica.rev, at: null };
    this.stop = o.replica.subscribe((u) => {
      this.mark.rev = u.rev;
      this.mark.at = Date.now();
    });
  }

  async report(): Promise<HostReport> {
    const hostOf = new Map<string, number>();
    for (const h of this.o.replica.hosts.values()) hostOf.set(h.public_key, h.id);
    const dump = await this.o.wg.show(this.o.iface);
    const now = Date.now();
    const dns = this.o.dns();
    return {
      agent: progressOf(this.mark, now),
      dns: dns ? progressOf(dns, now) : null,
      peers: dump ? hostPeerReports(dump, hostOf, this.txSeen, now) : [],
    };
  }
}
