// The fleet bench's load: `rate` changes per second through the coordinator's
// HTTP API for `seconds`, open loop (sent on schedule, not after the previous
// answer), a third each of creates, stops/starts and metadata writes.
import type { Seed } from './fleet-seed.js';

export interface LoadResult {
  sent: number;
  failed: number;
  /** requests not sent because `maxInFlight` were still waiting (the coordinator fell behind) */
  skipped: number;
  firstError: string | null;
  /** seconds until the last request was sent (more than `seconds` when this process was starved) */
  sentS: number;
}

export async function runLoad(url: string, seed: Seed, o: { rate: number; seconds: number; maxInFlight?: number }): Promise<LoadResult> {
  const auth = { authorization: `Bearer ${seed.admin}` };
  const started = new Map<string, boolean>(seed.machines.map((id) => [id, true]));
  const ids = [...seed.machines];
  const res: LoadResult = { sent: 0, failed: 0, skipped: 0, firstError: null, sentS: 0 };
  const maxInFlight = o.maxInFlight ?? 512;
  let inFlight = 0;
  let n = 0;
  const pick = (): string | undefined => ids[Math.floor(Math.random() * ids.length)];

  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const r = await fetch(
      `${url}${path}`,
      body === undefined ? { method, headers: auth } : { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  };

  const one = async (i: number): Promise<void> => {
    const id = pick();
    const kind = id === undefined ? 0 : i % 3;
    if (kind === 0) {
      const m = (await call('POST', '/v1/machines', { app: seed.apps[i % seed.apps.length], region: seed.regions[i % seed.regions.length] })) as {
        machine: { id: string };
      };
      ids.push(m.machine.id);
      started.set(m.machine.id, true);
    } else if (kind === 1) {
      // A stop, or a start of a stopped one: each is a change (a stop of a stopped machine would not be).
      const on = started.get(id!) ?? true;
      started.set(id!, !on);
      await call('POST', `/v1/machines/${id}/${on ? 'stop' : 'start'}`);
    } else {
      await call('PUT', `/v1/machines/${id}/metadata/bench`, { value: String(i) });
    }
  };

  const t0 = performance.now();
  const total = Math.round(o.rate * o.seconds);
  const pending = new Set<Promise<void>>();
  // Exactly `total` requests: after a stall of this (busy) process the ones due go out at once.
  while (n < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * o.rate));
    for (; n < due; n++) {
      if (inFlight >= maxInFlight) {
        res.skipped++;
        continue;
      }
      inFlight++;
      res.sent++;
      const p = one(n)
        .catch((err: unknown) => {
          res.failed++;
          res.firstError ??= String((err as Error).message ?? err);
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  res.sentS = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  return res;
}
