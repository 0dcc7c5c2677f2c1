// Keeps a DnsIndex in step with a Replica: a snapshot rebuilds it whole, a
// change record patches it; either way a new index object replaces the old
// one in a single assignment and 'swap' tells the server which networks'
// cached answers to drop.
import { EventEmitter } from 'node:events';
import type { Replica, ReplicaUpdate } from '../feed/replica.js';
import { DEFAULT_PREFIX } from '../addr/plan.js';
import { silentLogger, type Logger } from '../log.js';
import { buildIndex, emptyIndex, patchIndex, type DnsIndex, type PatchResult } from './index.js';

export class DnsIndexer extends EventEmitter {
  current: DnsIndex;
  private readonly onUpdate = (u: ReplicaUpdate): void => this.update(u);

  constructor(private readonly replica: Replica, private readonly prefix = DEFAULT_PREFIX, private readonly log: Logger = silentLogger) {
    super();
    this.current = replica.ready ? buildIndex(replica, prefix) : emptyIndex(prefix);
    replica.on('update', this.onUpdate);
  }

  private update(u: ReplicaUpdate): void {
    const t0 = performance.now();
    let res: PatchResult;
    try {
      res = u.ops === null || !this.current.ready
        ? { index: buildIndex(this.replica, this.prefix), networks: null }
        : patchIndex(this.current, this.replica, u.ops);
    } catch (err) {
      // A patch bug must not leave DNS on stale data: rebuild from scratch.
      this.log.error({ err: String(err), rev: u.rev }, 'dns index patch failed; rebuilding');
      res = { index: buildIndex(this.replica, this.prefix), networks: null };
    }
    this.current = res.index;
    this.log.debug({ rev: u.rev, full: res.networks === null, ms: +(performance.now() - t0).toFixed(2) }, 'dns index swapped');
    this.emit('swap', res.networks);
  }

  close(): void {
    this.replica.off('update', this.onUpdate);
  }
}
