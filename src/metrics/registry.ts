// Shared Prometheus helpers (prom-client). Every process (coordinator, DNS
// server, agent) owns its own Registry rather than prom-client's global one,
// so several components in one process (`sixpn up`, the tests) never clash.
import client from 'prom-client';
import { COMMIT, VERSION } from '../version.js';

export type { Registry } from 'prom-client';
export { client as prom };

export interface RegistryOptions {
  /** process_* and nodejs_* series (CPU, memory, event-loop lag, GC) */
  defaultMetrics?: boolean;
  /** labels added to every series, e.g. { component: 'dns' } */
  labels?: Record<string, string>;
}

export function createRegistry(opts: RegistryOptions = {}): client.Registry {
  const registry = new client.Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics) client.collectDefaultMetrics({ register: registry });
  // Constant 1: which build answers (join on it in queries, alert on mixed versions).
  new client.Gauge({
    name: 'sixpn_build_info',
    help: 'Constant 1, labelled with the sixpn version and git commit',
    labelNames: ['version', 'commit'],
    registers: [registry],
  }).set({ version: VERSION, commit: COMMIT ?? 'unknown' }, 1);
  return registry;
}

/** Seconds; request latencies from 0.5 ms (an in-memory answer) to 10 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Seconds; for slower work such as an agent reconcile (wg, netlink, nft). */
export const WORK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function counter<L extends string>(registry: client.Registry, name: string, help: string, labelNames: readonly L[] = []): client.Counter<L> {
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string>(
  registry: client.Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets: number[] = LATENCY_BUCKETS,
): client.Histogram<L> {
  return new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** A gauge read when scraped (revision, watcher count, peer count…): nothing to keep in sync. */
export function gaugeFn(registry: client.Registry, name: string, help: string, read: () => number): client.Gauge {
  return new client.Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** A labelled gauge read when scraped: `read` returns one value per label set. */
export function gaugeFnLabelled<L extends string>(
  registry: client.Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): client.Gauge<L> {
  return new client.Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    },
  });
}

/** The exposition text and its content type, for any HTTP server. */
export async function render(registry: client.Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
