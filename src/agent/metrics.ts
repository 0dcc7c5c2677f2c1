// The agent's Prometheus series (`sixpn agent --metrics HOST:PORT`):
// WireGuard peers and their handshake ages, reconcile passes (duration,
// failures by step), attached machines, and the change feed. Read from the
// agent's read-only status.
import type { Registry } from 'prom-client';
import type { FeedClient } from '../feed/client.js';
import type { Replica } from '../feed/replica.js';
import { counter, feedMetrics, gaugeFn, gaugeFnLabelled, histogram, WORK_BUCKETS } from '../metrics/index.js';
import type { PeerOwner } from './desired.js';
import type { AgentStatus } from './status.js';

/** Labels for a device peer: who it is, as the agent's desired state knows it. */
function peerLabels(owner: PeerOwner | undefined): { kind: string; peer: string } {
  if (!owner) return { kind: 'unknown', peer: 'unknown' };
  return owner.kind === 'host' ? { kind: 'host', peer: `${owner.region}/${owner.hostId}` } : { kind: 'peer', peer: `${owner.org}/${owner.name}` };
}

export function agentMetrics(registry: Registry, o: { status: AgentStatus; feed: FeedClient | null; replica: Replica }): void {
  const { status } = o;
  const owners = (): Map<string, PeerOwner> => status.desired?.owners ?? new Map();
  // The peers the last pass converged the device to (each pass diffs against the device itself).
  gaugeFnLabelled(registry, 'sixpn_agent_peers', 'WireGuard peers of this host, by kind (host: mesh peer, peer: developer peer)', ['kind'], () => {
    const n = new Map<string, number>([
      ['host', 0],
      ['peer', 0],
    ]);
    for (const v of owners().values()) n.set(v.kind, (n.get(v.kind) ?? 0) + 1);
    return [...n].map(([kind, v]) => [{ kind }, v]);
  });
  // From the device as last read (every resync, 10 s by default): an age may
  // overstate by that much right after a rekey. -1: no handshake yet.
  gaugeFnLabelled(
    registry,
    'sixpn_agent_peer_handshake_age_seconds',
    'Seconds since the latest WireGuard handshake with each peer (-1: none yet)',
    ['kind', 'peer'],
    () => {
      const now = Date.now() / 1000;
      return (status.dump?.peers ?? []).map((p) => [peerLabels(owners().get(p.publicKey)), p.latestHandshake > 0 ? Math.max(0, now - p.latestHandshake) : -1]);
    },
  );
  gaugeFnLabelled(
    registry,
    'sixpn_agent_peer_failures',
    'WireGuard peers the agent could not apply (e.g. an endpoint that does not resolve); 1 per failing peer',
    ['kind', 'peer'],
    () => status.peerFailures.map((f) => [peerLabels(owners().get(f.publicKey)), 1]),
  );
  gaugeFn(registry, 'sixpn_agent_machines', 'Machines attached on this host', () => status.attached);

  const duration = histogram(registry, 'sixpn_agent_reconcile_duration_seconds', 'Duration of a reconcile pass (nft, wg, routes, machines)', [], WORK_BUCKETS);
  const passes = counter(registry, 'sixpn_agent_reconciles_total', 'Reconcile passes');
  const errors = counter(registry, 'sixpn_agent_reconcile_errors_total', 'Reconcile steps that failed (each is retried)', ['step']);
  const peerChanges = counter(registry, 'sixpn_agent_peer_changes_total', 'WireGuard peer changes applied (add, update, remove)');
  const nftWrites = counter(registry, 'sixpn_agent_nft_writes_total', 'Times the nftables table was rewritten');
  status.onPass((s) => {
    passes.inc();
    duration.observe(s.ms / 1000);
    if (s.peerChanges) peerChanges.inc(s.peerChanges);
    if (s.nftApplied) nftWrites.inc();
    for (const step of s.failed) errors.inc({ step });
  });
  if (o.feed) feedMetrics(registry, o.feed, o.replica, 'sixpn_agent_feed');
}
