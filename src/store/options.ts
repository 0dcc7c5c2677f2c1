// The store's options and the shapes its facade shares with the modules that compose writes.
import type { ChangeOp } from '../model/types.js';
import type { Quotas } from './quotas.js';

export interface StoreOptions {
  /** change records kept for resuming watchers; older ones need a snapshot */
  keepChanges?: number;
  /** source of randomness for machine ids (tests pin it) */
  randomHex?: () => string;
  /** a host not heard from for this long is unreachable: no new machines or peers (default 60 s) */
  hostTimeoutMs?: number;
  /** per-org quotas (defaults: DEFAULT_QUOTAS) */
  quotas?: Partial<Quotas>;
}

export const DEFAULT_HOST_TIMEOUT_MS = 60_000;

/** What a write returns, and the change ops it publishes (none: nothing changed, no new revision). */
export interface Written<T> {
  value: T;
  ops: ChangeOp[];
}
