// The machine API's writes go to the coordinator (the store is the only
// source of truth) with the host's credential, which may change only the
// metadata of machines on its own host. The answer waits until this host's
// replica shows the write, so a machine that set `role=primary` reads it
// back at once and this host's DNS already answers the new name.
import type { Replica } from '../feed/replica.js';
import type { Machine } from '../model/types.js';
import type { MetadataWriter } from './server.js';

export interface MetadataApi {
  setMetadata(machineId: string, key: string, value: string | null): Promise<{ machine: Machine }>;
}

/** True when `m` shows key=value (or the key gone, for null). */
function shows(m: Machine | undefined, key: string, value: string | null): boolean {
  return (m?.metadata[key] ?? null) === value;
}

/** Resolves when the replica shows the write, or after `ms` (the feed may be down: answer anyway). */
export function replicaShows(replica: Replica, id: string, key: string, value: string | null, ms: number): Promise<boolean> {
  if (shows(replica.machines.get(id), key, value)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => { clearTimeout(t); unsubscribe(); resolve(ok); };
    const t = setTimeout(() => done(false), ms);
    const unsubscribe = replica.subscribe(() => { if (shows(replica.machines.get(id), key, value)) done(true); });
  });
}

export function coordinatorWriter(api: MetadataApi, replica: Replica, waitMs = 2000): MetadataWriter {
  return {
    async set(machineId, key, value) {
      const { machine } = await api.setMetadata(machineId, key, value);
      await replicaShows(replica, machineId, key, value, waitMs);
      return machine;
    },
  };
}
