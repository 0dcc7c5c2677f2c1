// Keeps the last desired state the agent saw on disk (debounced: a burst of
// changes is one write), so a restart with the coordinator down still
// converges to it.
import type { Replica } from '../feed/replica.js';
import type { Logger } from '../log.js';
import type { StateDir } from './statedir.js';

export class ReplicaSaver {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly replica: Pick<Replica, 'ready' | 'rev' | 'toState'>,
    private readonly state: StateDir,
    private readonly log: Logger,
    private readonly delayMs = 200,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Save now if a save is pending (on stop). */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.save();
  }

  private save(): void {
    if (!this.replica.ready) return;
    try {
      this.state.saveDesired(this.replica.rev, this.replica.toState());
    } catch (err) {
      this.log.error({ err: String(err) }, 'could not persist desired state');
    }
  }
}
