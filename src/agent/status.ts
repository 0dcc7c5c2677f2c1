// What the agent shows of itself: read-only for its readers (metrics, the
// CLI, tests); the reconciler and boot write it through StatusBoard.
import type { WgDump } from '../wg/dump.js';
import type { ApplyReport } from './apply.js';
import type { DesiredHost } from './desired.js';
import type { PeerFailure } from './resolver.js';

/** One reconcile pass, as logged ("converged") and counted. */
export interface ConvergeStats {
  rev: number;
  ms: number;
  peerChanges: number;
  nftApplied: boolean;
  /** steps that failed this pass (retried shortly) */
  failed: string[];
}

export interface AgentStatus {
  /** the desired state of the last pass; null before the first */
  readonly desired: DesiredHost | null;
  /** the device as last read (`wg show dump`): at most one resync interval old */
  readonly dump: WgDump | null;
  /** machines attached right now */
  readonly attached: number;
  /** is the feed connected right now? */
  readonly connected: boolean;
  readonly lastPass: ConvergeStats | null;
  /** WireGuard peers the last pass that touched peers could not apply (the others were) */
  readonly peerFailures: readonly PeerFailure[];
  /** Called after every pass; returns the unsubscribe. */
  onPass(fn: (s: ConvergeStats, r: ApplyReport) => void): () => void;
}

/** Where the live counts come from (the machine manager, the feed). */
export interface StatusSources {
  attached(): number;
  connected(): boolean;
}

export class StatusBoard implements AgentStatus {
  desired: DesiredHost | null = null;
  dump: WgDump | null = null;
  lastPass: ConvergeStats | null = null;
  peerFailures: readonly PeerFailure[] = [];
  private readonly listeners = new Set<(s: ConvergeStats, r: ApplyReport) => void>();
  private sources: StatusSources = { attached: () => 0, connected: () => false };

  get attached(): number {
    return this.sources.attached();
  }

  get connected(): boolean {
    return this.sources.connected();
  }

  /** Plug in the live counts once their owners exist. */
  bind(sources: Partial<StatusSources>): void {
    this.sources = { ...this.sources, ...sources };
  }

  passed(s: ConvergeStats, r: ApplyReport): void {
    this.lastPass = s;
    // A pass that did not touch the peers changed nothing about them.
    if (r.dump) this.peerFailures = r.peerFailures;
    for (const fn of this.listeners) fn(s, r);
  }

  onPass(fn: (s: ConvergeStats, r: ApplyReport) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}
