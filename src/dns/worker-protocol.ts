// Messages between the primary DNS process and its UDP workers (workers.ts,
// worker.ts). Sent with Node's 'advanced' IPC serialization (structured clone).
import type { ChangeRecord, State } from '../model/types.js';
import type { Upstream } from './forward.js';
import type { CacheCounts } from './cache.js';

/** What a worker needs to answer like the primary (everything serializable). */
export interface WorkerConfig {
  ttl: number;
  maxUdpSize: number;
  upstreams: Upstream[];
  forwardTimeoutMs: number;
  loopbackNetworkId?: number;
  loopbackOrg?: string;
  loopbackRegion?: string;
  prefix: number;
  answerCache: boolean;
  /** count queries and report them to the primary every second */
  stats: boolean;
  logLevel: string;
}

export type ToWorker =
  /** first message: then `sockets` socket messages, each carrying a bound UDP handle */
  | { t: 'init'; config: WorkerConfig; sockets: number }
  | { t: 'socket' }
  | { t: 'snapshot'; rev: number; state: State }
  | { t: 'change'; rec: ChangeRecord }
  | { t: 'close' };

export type ToPrimary =
  | { t: 'ready' }
  /** counts since the last report (added by the primary), cache counters as totals */
  | { t: 'stats'; queries: Float64Array; buckets: Float64Array; sum: Float64Array; count: Float64Array; cache: CacheCounts };
