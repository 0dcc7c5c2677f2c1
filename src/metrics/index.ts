// Prometheus helpers shared by the coordinator, the DNS server and the agent.
export * from './registry.js';
export { serveMetrics, type MetricsServer } from './server.js';
export { feedMetrics } from './feed.js';
