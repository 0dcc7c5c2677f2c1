// Series for any consumer of the change feed (the DNS server, the agent):
// how far its replica is, whether it is connected, how stale the last line is.
import type { Registry } from 'prom-client';
import type { FeedClient } from '../feed/client.js';
import type { Replica } from '../feed/replica.js';
import { counter, gaugeFn, histogram } from './registry.js';

/** Register `<prefix>_*` series for `feed` feeding `replica` (prefix e.g. sixpn_dns_feed). */
export function feedMetrics(registry: Registry, feed: FeedClient, replica: Replica, prefix: string): void {
  gaugeFn(registry, `${prefix}_revision`, 'Revision of the local replica', () => replica.rev);
  gaugeFn(registry, `${prefix}_connected`, '1 while the watch stream is open', () => (feed.connected ? 1 : 0));
  gaugeFn(registry, `${prefix}_last_message_age_seconds`, 'Seconds since the last feed line (heartbeats every 10 s when idle)', () =>
    feed.lastMessageAt ? (Date.now() - feed.lastMessageAt) / 1000 : -1,
  );
  const reconnects = counter(registry, `${prefix}_disconnects_total`, 'Watch streams that ended (each is followed by a reconnect)');
  const snapshots = counter(registry, `${prefix}_snapshots_total`, 'Snapshots loaded');
  const changes = counter(registry, `${prefix}_changes_total`, 'Change records applied');
  // Commit time (coordinator clock) to apply time (ours): includes clock skew between the hosts.
  const lag = histogram(
    registry,
    `${prefix}_apply_lag_seconds`,
    "Seconds from a change's commit to its apply here",
    [],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
  );
  feed.subscribe({
    disconnected: () => reconnects.inc(),
    snapshot: () => snapshots.inc(),
    applied: (a) => {
      changes.inc();
      const t = Date.parse(a.at);
      if (Number.isFinite(t)) lag.observe(Math.max(0, (Date.now() - t) / 1000));
    },
  });
}
