// Messages between the fleet bench's main thread and its worker threads.
import type { LatencyHist } from './fleet-stats.js';

export interface SimHostSetup {
  hostId: number;
  token: string;
  privateKey: string;
}

export interface WorkerSetup {
  url: string;
  hosts: SimHostSetup[];
  /** pause between two hosts' first connections */
  staggerMs: number;
  /** each reconciler's periodic forced pass (0: none) */
  resyncMs: number;
}

export type ToWorker = { type: 'start'; rev: number; timeoutMs: number } | { type: 'collect'; rev: number; timeoutMs: number } | { type: 'stop' };

export type ToMain =
  | { type: 'ready'; late: number }
  | { type: 'result'; late: number; hist: LatencyHist; feedHist: LatencyHist; heapUsed: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
