// The host agent: follows the coordinator's change feed and keeps this host
// converged — WireGuard device and mesh peers, addresses and routes,
// machines, nftables, the host's DNS server and the machine API it serves
// its machines (their own metadata, see src/machineapi/).
//
// This is its facade. The parts: src/agent/boot.ts (up and down),
// plan.ts (desired state and diffs, pure), apply.ts (a pass over the ports of
// ports.ts), loop.ts (when passes run), reconciler.ts (replica → plan →
// apply), status.ts (what metrics and callers read).
import type { FeedClient } from '../feed/client.js';
import type { Replica } from '../feed/replica.js';
import type { DeviceHandle } from '../wg/device.js';
import { AgentRuntime } from './boot.js';
import type { AgentConfig } from './config.js';
import type { Identity } from './statedir.js';
import type { AgentStatus } from './status.js';

export class Agent {
  private constructor(private readonly rt: AgentRuntime) {}

  static async start(cfg: AgentConfig): Promise<Agent> {
    const rt = new AgentRuntime(cfg);
    try {
      await rt.boot();
    } catch (err) {
      await rt.stop().catch(() => undefined);
      throw err;
    }
    return new Agent(rt);
  }

  get cfg(): AgentConfig {
    return this.rt.cfg;
  }

  get identity(): Identity {
    return this.rt.identity!;
  }

  /** The WireGuard device as last made or adopted. */
  get device(): DeviceHandle | null {
    return this.rt.wg.device;
  }

  get replica(): Replica {
    return this.rt.replica;
  }

  get feed(): FeedClient | null {
    return this.rt.feed;
  }

  /** Read-only: last desired state, device dump, passes, attached machines, feed state. */
  get status(): AgentStatus {
    return this.rt.status;
  }

  /** Converge now (or right after the pass in flight); resolves when done. */
  converge(opts: { force?: boolean } = {}): Promise<void> {
    return this.rt.reconciler?.converge(opts) ?? Promise.resolve();
  }

  /**
   * Stop following the coordinator. Without `teardown` everything stays as
   * it is (interface, peers, machines, rules): a restarted agent adopts it.
   * With `teardown` the agent removes all it made.
   */
  stop(opts: { teardown?: boolean } = {}): Promise<void> {
    return this.rt.stop(opts);
  }
}
