// The reconciler: every replica update asks the loop for a pass; a pass
// plans the host's desired state from the replica and applies it over the
// ports, then records what it did in the status. A forced pass (the
// periodic resync, a link event, a retry) diffs against what the devices
// report, so a missed event, a restart or a manual change is repaired by it;
// a change's pass applies only what the change altered (apply.ts).
import type { Replica } from '../feed/replica.js';
import type { Logger } from '../log.js';
import { apply, type ApplyMemory, type DeviceWant } from './apply.js';
import { ReconcileLoop, type LoopOptions, type PassResult } from './loop.js';
import type { Planner } from './plan.js';
import type { Ports } from './ports.js';
import type { ConvergeStats, StatusBoard } from './status.js';

export interface ReconcilerOptions {
  replica: Pick<Replica, 'ready' | 'rev' | 'toState' | 'subscribe'>;
  planner: Planner;
  ports: Ports;
  device: DeviceWant;
  /** shared with boot's first nft write and device setup */
  memory: ApplyMemory;
  status: StatusBoard;
  log: Logger;
  /** loop timings (tests shorten them) */
  timing?: Pick<LoopOptions, 'retryMs' | 'maxRetryMs' | 'resyncMs' | 'repairDelayMs'>;
  /** after a handshake kick, a forced pass this much later diffs the keepalives back off */
  kickFollowUpMs?: number;
}

export class Reconciler {
  readonly loop: ReconcileLoop;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: ReconcilerOptions) {
    this.loop = new ReconcileLoop({
      ...o.timing,
      log: o.log,
      pass: (force) => this.pass(force),
      beforeResync: () => this.checkNft(),
      afterRepair: () => o.ports.machines.checkHealth(),
    });
  }

  /** Follow the replica; start the periodic resync. */
  start(): void {
    this.unsubscribe ??= this.o.replica.subscribe((u) => {
      this.o.planner.note(u);
      void this.converge();
    });
    this.loop.start();
  }

  /** Converge now (or right after the pass in flight); resolves when done. */
  converge(opts: { force?: boolean } = {}): Promise<void> {
    return this.loop.request(opts);
  }

  /** A link of ours changed behind our back: a forced pass shortly, then health checks. */
  repairSoon(): void {
    this.loop.repairSoon();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.loop.stop();
  }

  private async pass(force: boolean): Promise<PassResult> {
    const { replica, status } = this.o;
    if (!replica.ready) return { failed: false };
    const t0 = performance.now();
    const rev = replica.rev;
    const desired = this.o.planner.desired(() => replica.toState());
    status.desired = desired;
    const report = await apply(desired, this.o.ports, { device: this.o.device, memory: this.o.memory, force, log: this.o.log });
    if (report.dump) status.dump = report.dump;
    const { added, removed, changed } = report.peers;
    const stats: ConvergeStats = {
      rev,
      ms: +(performance.now() - t0).toFixed(1),
      peerChanges: added.length + removed.length + changed.length,
      nftApplied: report.nftWritten,
      failed: report.failed.map((f) => f.step),
    };
    this.o.log.debug(stats, 'converged');
    status.passed(stats, report);
    return { failed: report.failed.length > 0, ...(report.kicked ? { forceAfterMs: this.o.kickFollowUpMs ?? 2000 } : {}) };
  }

  /** Verify what a pass trusts from memory (the nft table is still there). */
  private async checkNft(): Promise<void> {
    const d = this.o.status.desired;
    if (d && !(await this.o.ports.nft.exists(d.nft.table))) {
      this.o.log.warn({ table: d.nft.table }, 'nftables table missing; rewriting');
      this.o.memory.nftText = null;
    }
  }
}
