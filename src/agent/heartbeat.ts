// The host's heartbeat: a cheap PUT every few seconds so the coordinator can
// tell a silent host (unreachable: no new machines or peers placed on it).
// It is not part of the feed; failures are logged once until it works again.
import { ApiError, type CoordinatorApi } from '../client/api.js';
import type { Logger } from '../log.js';
import type { Timers } from './timers.js';

export const HEARTBEAT_MS = 10_000;

export function startHeartbeat(o: { api: CoordinatorApi; hostId: number; log: Logger; timers: Timers; everyMs?: number }): void {
  let failing = false;
  const beat = async (): Promise<void> => {
    try {
      await o.api.heartbeat(o.hostId);
      if (failing) o.log.info('heartbeat accepted again');
      failing = false;
    } catch (err) {
      if (!failing) {
        const refused = err instanceof ApiError && (err.status === 401 || err.status === 404);
        o.log.warn({ err: String(err), ...(refused ? { hint: 'this host may have been removed (sixpn hosts remove)' } : {}) }, 'heartbeat failed');
      }
      failing = true;
    }
  };
  void beat();
  o.timers.every(o.everyMs ?? HEARTBEAT_MS, beat);
}
