// Who this host is. The key pair is made here (the private key is written
// only to the state dir, mode 0600, and to the WireGuard device); the
// coordinator sees the public key at enrollment and hands back the host id
// and a credential. `sixpn up` passes an identity it provisioned itself.
// Enrolling is idempotent: a retry after a lost reply gets the same host id
// (and a fresh credential), so the agent simply tries again.
// A host restarted with a new --endpoint or as another sixpn version tells the coordinator (followEndpoint).
import type { Logger } from '../log.js';
import { generateKeyPair, publicKeyOf } from '../wg/keys.js';
import { ApiError, type CoordinatorApi } from '../client/api.js';
import type { Identity, StateDir } from './statedir.js';
import type { Timers } from './timers.js';
import { BUILD } from '../version.js';

export class EnrollError extends Error {
  override name = 'EnrollError';
}

export interface IdentityInput {
  cfg: { identity?: Identity; enrollToken?: string; region: string; endpoint: string; gateway: boolean; coordinatorUrl: string };
  state: StateDir;
  api: CoordinatorApi;
  log: Logger;
  stopped: () => boolean;
  /** wait between tries after a 409 (default 30 s) */
  conflictRetryMs?: number;
}

const CONFLICT_RETRY_MS = 30_000;

export async function resolveIdentity(o: IdentityInput): Promise<Identity> {
  const { cfg, state, log } = o;
  if (cfg.identity) return cfg.identity;
  let privateKey = state.loadPrivateKey();
  if (!privateKey) {
    privateKey = generateKeyPair().privateKey;
    state.savePrivateKey(privateKey);
    log.info('generated a new WireGuard key pair');
  }
  const publicKey = publicKeyOf(privateKey);
  const saved = state.loadIdentity();
  if (saved && saved.publicKey === publicKey) {
    if (saved.coordinator && saved.coordinator !== cfg.coordinatorUrl)
      log.warn({ enrolledWith: saved.coordinator, now: cfg.coordinatorUrl }, 'coordinator URL differs from enrollment');
    return { hostId: saved.hostId, publicKey, privateKey, credential: saved.credential };
  }
  if (!cfg.enrollToken) throw new EnrollError(`this host is not enrolled yet (no identity in ${state.dir}): --enroll-token is required on first start`);
  o.api.setToken(cfg.enrollToken);
  let backoff = 500;
  for (;;) {
    try {
      const r = await o.api.enroll({ region: cfg.region, endpoint: cfg.endpoint, public_key: publicKey, gateway: cfg.gateway, version: BUILD });
      state.saveIdentity({
        hostId: r.host.id,
        publicKey,
        credential: r.credential,
        coordinator: cfg.coordinatorUrl,
        region: cfg.region,
        endpoint: cfg.endpoint,
        gateway: cfg.gateway,
        version: BUILD,
      });
      log.info({ hostId: r.host.id, region: cfg.region, endpoint: cfg.endpoint }, 'enrolled');
      return { hostId: r.host.id, publicKey, privateKey, credential: r.credential };
    } catch (err) {
      // A conflict (this key is enrolled elsewhere and still heard from, or
      // was removed) may clear once the old record goes silent: wait and try
      // again, slowly, rather than exit into a restart loop.
      const conflict = err instanceof ApiError && err.status === 409;
      // Any other "no" (a bad token, bad input): retrying will not change the coordinator's mind.
      if (err instanceof ApiError && err.status < 500 && err.status !== 429 && !conflict) throw new EnrollError(`enrollment refused: ${err.message}`);
      if (o.stopped()) throw new EnrollError('stopped before enrollment');
      const waitMs = conflict ? Math.max(backoff, o.conflictRetryMs ?? CONFLICT_RETRY_MS) : backoff;
      if (conflict) log.error({ err: err.message, retryMs: waitMs }, 'enrollment conflict; retrying');
      else log.warn({ err: String(err), retryMs: waitMs }, 'enrollment failed; retrying');
      await new Promise((r) => setTimeout(r, waitMs));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

/**
 * Started with another --endpoint than the one enrolled (the host moved), or
 * as another sixpn version: tell the coordinator, so the other hosts' peers
 * follow and `hosts list` shows the version. Retried in the background while
 * the coordinator is unreachable.
 */
export function followEndpoint(
  o: { state: StateDir; api: CoordinatorApi; hostId: number; endpoint: string; log: Logger; timers: Timers },
  delayMs = 500,
): void {
  const saved = o.state.loadIdentity() as (Parameters<StateDir['saveIdentity']>[0] & { endpoint?: string }) | null;
  if (!saved?.endpoint || saved.hostId !== o.hostId) return;
  const patch = { ...(saved.endpoint !== o.endpoint ? { endpoint: o.endpoint } : {}), ...(saved.version !== BUILD ? { version: BUILD } : {}) };
  if (Object.keys(patch).length === 0) return;
  void o.api.updateHost(o.hostId, patch).then(
    () => {
      o.state.saveIdentity({ ...saved, endpoint: o.endpoint, version: BUILD });
      if (patch.endpoint) o.log.info({ was: saved.endpoint, now: o.endpoint }, 'endpoint moved; coordinator updated');
      if (patch.version) o.log.info({ was: saved.version ?? null, now: BUILD }, 'version reported to the coordinator');
    },
    (err: unknown) => {
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
        o.log.error({ err: err.message, endpoint: o.endpoint }, 'coordinator refused the new endpoint');
        return;
      }
      o.log.warn({ err: String(err), retryMs: delayMs }, 'could not update endpoint; retrying');
      o.timers.after(delayMs, () => followEndpoint(o, Math.min(delayMs * 2, 10_000)));
    },
  );
}
