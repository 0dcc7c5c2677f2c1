// The host's heartbeat: a cheap PUT every few seconds so the coordinator can
// tell a silent host (unreachable: no new machines or peers placed on it),
// carrying the agent's report (handshakes with the other hosts, feed lag;
// src/agent/host-report.ts). It is not part of the feed; failures are logged
// once until it works again.
import { ApiError, type CoordinatorApi } from '../client/api.js';
import type { Logger } from '../log.js';
import type { HostReport } from '../model/host-report.js';
import type { Timers } from './timers.js';

export const HEARTBEAT_MS = 10_000;

export function startHeartbeat(o: {
  api: CoordinatorApi;
  hostId: number;
  log: Logger;
  timers: Timers;
  everyMs?: number;
  /** the report to send along; a failure to build it sends a bare heartbeat */
  report?: () => Promise<HostReport>;
}): void {
  let failing = false;
  let refused = false;
  const beat = async (): Promise<void> => {
    const report = await o.report?.().catch((err: unknown) => {
      o.log.debug({ err: String(err) }, 'host report not built; bare heartbeat');
      return undefined;
    });
    try {
      await o.api.heartbeat(o.hostId, report).catch(async (err: unknown) => {
        // A report the coordinator refuses must not make the host look dead: say so, beat bare.
        if (!(report && err instanceof ApiError && err.status === 400)) throw err;
        if (!refused) o.log.warn({ err: String(err) }, 'host report refused; heartbeats go without it');
        refused = true;
        await o.api.heartbeat(o.hostId);
      });
      if (failing) o.log.info('heartbeat accepted again');
      failing = false;
    } catch (err) {
      if (!failing) {
        const gone = err instanceof ApiError && (err.status === 401 || err.status === 404);
        o.log.warn({ err: String(err), ...(gone ? { hint: 'this host may have been removed (sixpn hosts remove)' } : {}) }, 'heartbeat failed');
      }
      failing = true;
    }
  };
  void beat();
  o.timers.every(o.everyMs ?? HEARTBEAT_MS, beat);
}
