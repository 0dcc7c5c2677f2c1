// Keeps a DnsIndex in step with a Replica: a snapshot rebuilds it whole, a
// change record patches it; either way a new index object replaces the old
// one in a single assignment and the swap listeners learn which networks'
// cached answers to drop.
import type { Replica, ReplicaUpdate } from '../feed/replica.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { silentLogger, type Logger } from '../log.js';
import { buildIndex, emptyIndex, patchIndex, type DnsIndex, type PatchResult } from './index.js';

/** Networks whose answers may have changed; null: all of them. */
export type SwapListener = (networks: ReadonlySet<number> | null) => void;

export class DnsIndexer {
  private index: DnsIndex;
  private readonly listeners = new Set<SwapListener>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly replica: Replica,
    private readonly prefix = DEFAULT_PREFIX,
    private readonly log: Logger = silentLogger,
  ) {
    this.index = replica.ready ? buildIndex(replica, prefix) : emptyIndex(prefix);
    this.unsubscribe = replica.subscribe((u) => this.update(u));
  }

  /** The index of the latest update; a query holds one for its whole lookup. */
  get current(): DnsIndex {
    return this.index;
  }

  /** Call `fn` after every swap; returns the unsubscribe. */
  subscribe(fn: SwapListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  private update(u: ReplicaUpdate): void {
    const t0 = performance.now();
    let res: PatchResult;
    try {
      res =
        u.ops === null || !this.index.ready ? { index: buildIndex(this.replica, this.prefix), networks: null } : patchIndex(this.index, this.replica, u.ops);
    } catch (err) {
      // A patch bug must not leave DNS on stale data: rebuild from scratch.
      this.log.error({ err: String(err), rev: u.rev }, 'dns index patch failed; rebuilding');
      res = { index: buildIndex(this.replica, this.prefix), networks: null };
    }
    this.index = res.index;
    this.log.debug({ rev: u.rev, full: res.networks === null, ms: +(performance.now() - t0).toFixed(2) }, 'dns index swapped');
    for (const fn of [...this.listeners]) fn(res.networks);
  }

  close(): void {
    this.unsubscribe();
  }
}
