// Prometheus series of the DNS server, built at scrape time from DnsStats
// and the answer cache's own counters, so answering a query never touches
// prom-client (see src/dns/stats.ts).
import type { Registry } from 'prom-client';
import { prom } from '../metrics/index.js';
import { DURATION_BUCKETS, TRANSPORT_LABELS, type DnsStats } from './stats.js';
import type { CacheCounts } from './cache.js';

const DURATION = 'sixpn_dns_query_duration_seconds';

/**
 * A histogram whose buckets are already counted elsewhere. prom-client's
 * Histogram only grows one observe() at a time; the registry accepts any
 * metric object with this shape (name, help, type, get()).
 */
class PrecountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly stats: DnsStats,
  ) {}

  /** registry.resetMetrics() calls this on every metric. */
  reset(): void {
    this.stats.buckets.fill(0);
    this.stats.sum.fill(0);
    this.stats.count.fill(0);
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const t of [0, 1] as const) {
      const transport = TRANSPORT_LABELS[t];
      const cum = this.stats.cumulative(t);
      DURATION_BUCKETS.forEach((le, i) => values.push({ labels: { le, transport }, value: cum[i]!, metricName: `${this.name}_bucket` }));
      values.push({ labels: { le: '+Inf', transport }, value: cum[cum.length - 1]!, metricName: `${this.name}_bucket` });
      values.push({ labels: { transport }, value: this.stats.sum[t]!, metricName: `${this.name}_sum` });
      values.push({ labels: { transport }, value: this.stats.count[t]!, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Register the DNS series: queries, their duration, the answer cache. */
export function dnsMetrics(registry: Registry, stats: DnsStats, cache: () => CacheCounts): void {
  new prom.Counter({
    name: 'sixpn_dns_queries_total',
    help: 'DNS messages answered (or dropped), by question type, response code and transport',
    labelNames: ['qtype', 'rcode', 'transport'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of stats.queryCounts()) this.inc(labels, v);
    },
  });
  registry.registerMetric(
    new PrecountedHistogram(DURATION, "Seconds from a query's arrival to its answer being ready (forwarded queries included)", stats) as unknown as prom.Metric,
  );
  new prom.Counter({
    name: 'sixpn_dns_cache_hits_total',
    help: 'Queries answered from the encoded-answer cache',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache().hits);
    },
  });
  new prom.Counter({
    name: 'sixpn_dns_cache_misses_total',
    help: 'Queries that had to be looked up (and were then cached when cacheable)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache().misses);
    },
  });
  new prom.Counter({
    name: 'sixpn_dns_cache_evictions_total',
    help: 'Encoded answers evicted to make room (CLOCK: entries not asked for since the last sweep go first)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache().evictions);
    },
  });
  new prom.Gauge({
    name: 'sixpn_dns_cache_entries',
    help: 'Encoded answers held',
    registers: [registry],
    collect() {
      this.set(cache().size);
    },
  });
}
