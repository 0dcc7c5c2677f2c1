// `sixpn status`, the part its hosts report with their heartbeats: the
// WireGuard handshakes between hosts and the agent's and DNS server's feed
// lag; and the problems these show. Pure, so it is tested on its own.
import type { HostListed } from '../../client/types.js';
import { FEED_LAG_PROBLEM_S, HANDSHAKE_STALE_S, type FeedLagView } from '../../model/host-report.js';
import { printTable } from '../output.js';

export interface MeshPeerOut {
  host_id: number;
  region: string | null;
  handshake_age_s: number | null;
  endpoint: string | null;
  sending: boolean;
}

export interface FeedOut {
  rev: number;
  lag: number;
  lag_s: number | null;
  last_change_s: number | null;
}

/** The fields `status --json` adds to each host (null: its agent never reported). */
export interface HostReportOut {
  reported_at: string | null;
  wireguard: MeshPeerOut[] | null;
  agent_feed: FeedOut | null;
  dns_feed: FeedOut | null;
}

const feedOut = (f: FeedLagView | null | undefined): FeedOut | null => (f ? { rev: f.rev, lag: f.lag, lag_s: f.lag_s, last_change_s: f.last_change_s } : null);

export function reportOut(h: HostListed, hosts: readonly HostListed[]): HostReportOut {
  const r = h.report;
  if (!r) return { reported_at: null, wireguard: null, agent_feed: null, dns_feed: null };
  return {
    reported_at: r.reported_at,
    wireguard: r.peers.map((p) => ({
      host_id: p.host_id,
      region: hosts.find((o) => o.id === p.host_id)?.region ?? null,
      handshake_age_s: p.handshake_age_s,
      endpoint: p.endpoint,
      sending: p.sending,
    })),
    agent_feed: feedOut(r.agent),
    dns_feed: feedOut(r.dns),
  };
}

const name = (h: Pick<HostListed, 'id' | 'region'>): string => `host ${h.id} (${h.region})`;

function lagProblem(h: HostListed, what: string, f: FeedLagView | null | undefined): string | null {
  if (!f || f.lag === 0) return null;
  if (f.lag_s !== null && f.lag_s <= FEED_LAG_PROBLEM_S) return null;
  const waited = f.lag_s === null ? 'changes it lacks are no longer in the change log' : `its oldest unapplied change had waited ${f.lag_s} s`;
  return `${name(h)}: ${what} is ${f.lag} revision(s) behind the coordinator (${waited}): is its feed connected?`;
}

/**
 * Problems the reports show, between hosts that are both reachable: a host
 * sending to another over WireGuard without a fresh handshake (none, or older
 * than the session keys live); a replica whose oldest unapplied change waited
 * too long. An idle tunnel makes no handshakes, so one without traffic is no
 * problem.
 */
export function reportProblems(hosts: readonly HostListed[]): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const r = h.report;
    if (!r || h.status !== 'reachable') continue;
    for (const p of r.peers) {
      const other = hosts.find((o) => o.id === p.host_id);
      if (!other || other.status !== 'reachable' || !p.sending) continue;
      if (p.handshake_age_s !== null && p.handshake_age_s <= HANDSHAKE_STALE_S) continue;
      const last = p.handshake_age_s === null ? 'never' : `${p.handshake_age_s} s ago`;
      out.push(
        `${name(h)} sends to ${name(other)} over WireGuard but gets no handshake back (last: ${last}): ` +
          `is UDP ${other.endpoint} reachable from ${name(h)}?`,
      );
    }
    for (const p of [lagProblem(h, 'its agent', r.agent), lagProblem(h, 'its DNS server', r.dns)]) if (p) out.push(p);
  }
  return out;
}

const ago = (s: number | null | undefined): string | null => (s === null || s === undefined ? null : `${s}s ago`);
const lagText = (f: FeedOut | null): string | null => (f ? (f.lag === 0 ? '0' : `${f.lag} (${f.lag_s === null ? '?' : `${f.lag_s}s`})`) : null);

/** The two tables under the hosts table; nothing when no host has reported. */
export function printReports(hosts: readonly ({ id: number; region: string } & HostReportOut)[], nowMs: number): void {
  const reported = hosts.filter((h) => h.reported_at !== null);
  if (reported.length === 0) return;
  const label = (id: number, region: string | null): string => `${id} (${region ?? '?'})`;
  process.stdout.write('\nwireguard between hosts (as each host last reported)\n');
  printTable(
    reported.flatMap((h) =>
      (h.wireguard ?? []).map((p) => ({
        host: label(h.id, h.region),
        peer: label(p.host_id, p.region),
        handshake: ago(p.handshake_age_s) ?? 'never',
        sending: p.sending ? 'yes' : 'no',
        endpoint: p.endpoint,
      })),
    ),
    ['host', 'peer', 'handshake', 'sending', 'endpoint'],
  );
  process.stdout.write("\nfeed lag (revisions behind, as of each host's last report)\n");
  printTable(
    reported.map((h) => ({
      host: label(h.id, h.region),
      reported: ago(Math.max(0, Math.round((nowMs - Date.parse(h.reported_at!)) / 1000))),
      agent_rev: h.agent_feed?.rev,
      agent_lag: lagText(h.agent_feed),
      dns_rev: h.dns_feed?.rev,
      dns_lag: lagText(h.dns_feed),
      last_change: ago(h.agent_feed?.last_change_s),
    })),
    ['host', 'reported', 'agent_rev', 'agent_lag', 'dns_rev', 'dns_lag', 'last_change'],
  );
}
