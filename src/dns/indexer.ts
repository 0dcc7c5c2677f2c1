// Keeps a DnsIndex in step with a Replica: a snapshot rebuilds it whole, a
// change record patches it; either way a new index object replaces the old
// one in a single assignment and the swap listeners learn which networks'
// cached answers to drop. Change records are patched in together, once the
// records already received are applied (setImmediate), or earlier when the
// index is read: a reader never sees an index behind the replica, and a
// backlog of records costs one patch, not one each.
import type { Replica, ReplicaUpdate } from '../feed/replica.js';
import type { ChangeOp } from '../model/types.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { silentLogger, type Logger } from '../log.js';
import { buildIndex, emptyIndex, patchIndex, type DnsIndex, type PatchResult } from './index.js';

/** Networks whose answers may have changed; null: all of them. */
export type SwapListener = (networks: ReadonlySet<number> | null) => void;

export class DnsIndexer {
  private index: DnsIndex;
  private readonly listeners = new Set<SwapListener>();
  private readonly unsubscribe: () => void;
  /** ops of change records applied to the replica and not yet to the index */
  private pending: ChangeOp[] = [];
  private pendingRev = 0;
  private flushTimer: NodeJS.Immediate | null = null;

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
    if (this.flushTimer) this.flush();
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
    if (u.ops === null || !this.index.ready) {
      this.cancelFlush();
      this.pending = [];
      this.swap(u.rev, () => ({ index: buildIndex(this.replica, this.prefix), networks: null }));
      return;
    }
    for (const op of u.ops) this.pending.push(op);
    this.pendingRev = u.rev;
    this.flushTimer ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.cancelFlush();
    const ops = this.pending;
    this.pending = [];
    this.swap(this.pendingRev, () => patchIndex(this.index, this.replica, ops));
  }

  private cancelFlush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = null;
  }

  private swap(rev: number, make: () => PatchResult): void {
    const t0 = performance.now();
    let res: PatchResult;
    try {
      res = make();
    } catch (err) {
      // A patch bug must not leave DNS on stale data: rebuild from scratch.
      this.log.error({ err: String(err), rev }, 'dns index patch failed; rebuilding');
      res = { index: buildIndex(this.replica, this.prefix), networks: null };
    }
    this.index = res.index;
    this.log.debug({ rev, full: res.networks === null, ms: +(performance.now() - t0).toFixed(2) }, 'dns index swapped');
    for (const fn of [...this.listeners]) fn(res.networks);
  }

  close(): void {
    this.cancelFlush();
    this.unsubscribe();
  }
}
