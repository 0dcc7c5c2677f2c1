// The machine API's writes go to the coordinator (the store is the only
// source of truth) with the host's credential, which may change only the
// metadata of machines on its own host. The answer waits until this host's
// replica shows the write, so a machine that set `role=primary` reads it
// back at once and this host's DNS already answers the new name.
import type { Replica } from '../feed/replica.js';
import type { Machine } from '../model/types.js';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.js';
import type { MetadataWriter } from './server.js';

export interface MetadataApi {
  setMetadata(machineId: string, key: string, value: string | null, ifMatch?: number): Promise<{ machine: Machine }>;
}

/** True when `m` shows key=value (or the key gone, for null). */
function shows(m: Machine | undefined, key: string, value: string | null): boolean {
  return (m?.metadata[key] ?? null) === value;
}

/** Resolves when the replica shows the write, or after `ms` (the feed may be down: answer anyway). */
export function replicaShows(replica: Replica, id: string, key: string, value: string | null, ms: number): Promise<boolean> {
  if (shows(replica.machines.get(id), key, value)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(t);
      unsubscribe();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), ms);
    const unsubscribe = replica.subscribe(() => {
      if (shows(replica.machines.get(id), key, value)) done(true);
    });
  });
}

/**
 * The coordinator's refusal (a 4xx with a declared code) passes through to
 * the machine; its failure or silence is this API's `unavailable`.
 */
function asAppError(err: unknown): AppError {
  const e = err as { status?: number; code?: string; message?: string };
  if (e.status !== undefined && e.status < 500 && e.code !== undefined && Object.hasOwn(ERROR_STATUS, e.code))
    return new AppError(e.code as ErrorCode, String(e.message));
  return new AppError('unavailable', `coordinator: ${String(e.message ?? err)}`);
}

export function coordinatorWriter(api: MetadataApi, replica: Replica, waitMs = 2000): MetadataWriter {
  return {
    async set(machineId, key, value, ifMatch) {
      const { machine } = await api.setMetadata(machineId, key, value, ifMatch).catch((err: unknown) => {
        throw asAppError(err);
      });
      await replicaShows(replica, machineId, key, value, waitMs);
      return machine;
    },
  };
}
