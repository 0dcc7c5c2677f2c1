// `npm run bench -- lease`: lease hand-over time, holder stopped → the
// successor's `PUT /v1/self/leases/NAME` answered 200. A coordinator (SQLite,
// over HTTP) and one host's machine API with its feed-fed replica, in process,
// as the agent wires them (test/integration/leases.test.ts). Two machines of
// one app take turns: the holder is stopped through the API, the other takes
// the lease, the stopped one is started again, and the roles swap.
//
// Two kinds of successor, LEASE_TRIALS trials each (default 200):
//   stream  reacts to its host's replica (what GET /v1/machines/watch streams):
//           it PUTs as soon as the holder shows without the lease (and retries
//           every 100 ms on a 409)
//   poll    PUTs every LEASE_POLL_MS (default 100: the machine API's write rate
//           is 10/s per machine) until it gets 200, its first PUT at a random
//           point of its period after the stop
// Ends with one line:
//   lease: trials=N p50_ms=X p99_ms=Y max_ms=Z poll_p50_ms=A poll_p99_ms=B poll_ms=P
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinatorApi } from '../src/client/api.js';
import { FeedClient } from '../src/feed/client.js';
import { Replica } from '../src/feed/replica.js';
import { buildMachineApi } from '../src/machineapi/server.js';
import { coordinatorWriter } from '../src/machineapi/writer.js';
import type { Machine } from '../src/model/types.js';
import { KEY_A, testCoordinator } from '../testkit/coordinator.js';
import { envNumber, pct } from './percentile.js';

const TRIALS = Math.max(1, envNumber('LEASE_TRIALS', 200));
const POLL_MS = Math.max(1, envNumber('LEASE_POLL_MS', 100));
const TTL = 30;
const now = (): number => performance.now();

async function main(): Promise<void> {
  const c = await testCoordinator();
  const url = await c.listen();
  const replica = new Replica();
  let feed: FeedClient | null = null;
  let api: ReturnType<typeof buildMachineApi> | null = null;
  try {
    await c.call('POST', '/v1/orgs', { name: 'bench' });
    await c.call('POST', '/v1/apps', { name: 'pg', org: 'bench' });
    const host = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json;
    const ms: Machine[] = [];
    for (let i = 0; i < 2; i++) ms.push((await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine as Machine);
    feed = new FeedClient({ url, token: host.credential as string, replica });
    feed.start();
    const coord = new CoordinatorApi(url, host.credential as string);
    api = buildMachineApi({ replica, hostId: host.host.id as number, writer: coordinatorWriter(coord, replica), leases: coord });
    const machineApi = api;
    await until(() => ms.every((m) => replica.machines.has(m.id)), 10_000);

    const put = async (m: Machine): Promise<number> =>
      (await machineApi.inject({ method: 'PUT', url: '/v1/self/leases/primary', remoteAddress: m.address, payload: { ttl: TTL } })).statusCode;
    const admin = async (path: string): Promise<void> => {
      const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${c.admin}` } });
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
    };
    const holds = (m: Machine): boolean => (replica.machines.get(m.id)?.leases ?? []).includes('primary');
    /** Resolves when the replica shows `m` without the lease, or after `ms`. */
    const released = (m: Machine, ms: number): Promise<void> =>
      new Promise((resolve) => {
        if (!holds(m)) return resolve();
        const done = (): void => {
          off();
          clearTimeout(t);
          resolve();
        };
        const off = replica.subscribe(() => {
          if (!holds(m)) done();
        });
        const t = setTimeout(done, ms);
      });

    if ((await put(ms[0]!)) !== 200) throw new Error('the first holder could not take the lease');
    let holder = ms[0]!,
      next = ms[1]!;
    const times: Record<'stream' | 'poll', number[]> = { stream: [], poll: [] };
    for (const mode of ['stream', 'poll'] as const) {
      for (let i = 0; i < TRIALS; i++) {
        const t0 = now();
        const stopped = admin(`/v1/machines/${holder.id}/stop`);
        // A poller does not know when the holder stops: its first poll falls anywhere in its period.
        if (mode === 'poll') await sleep(Math.random() * POLL_MS);
        for (let tries = 0; ; tries++) {
          if (mode === 'stream') await released(holder, POLL_MS);
          const code = await put(next);
          if (code === 200) break;
          if (code !== 409 && code !== 429) throw new Error(`successor's PUT: ${code}`);
          if (tries > 30_000 / POLL_MS) throw new Error('no hand-over within 30 s');
          if (mode === 'poll' || !holds(holder)) await sleep(POLL_MS);
        }
        times[mode].push(now() - t0);
        await stopped;
        await admin(`/v1/machines/${holder.id}/start`);
        await until(() => replica.machines.get(holder.id)?.state === 'started', 10_000);
        [holder, next] = [next, holder];
      }
    }
    const f = (x: number): string => x.toFixed(1);
    console.log(`lease hand-over, holder stopped → successor's PUT answered 200 (${TRIALS} trials each; in-process coordinator and machine API)`);
    console.log(['successor', 'p50 ms', 'p99 ms', 'max ms'].map((s) => s.padEnd(28)).join(' '));
    for (const [mode, xs] of Object.entries(times)) {
      const what = mode === 'stream' ? 'reacts to its replica' : `polls every ${POLL_MS} ms`;
      console.log([what, f(pct(xs, 50)), f(pct(xs, 99)), f(Math.max(...xs))].map((s) => s.padEnd(28)).join(' '));
    }
    const s = times.stream,
      p = times.poll;
    console.log(
      `lease: trials=${TRIALS} p50_ms=${f(pct(s, 50))} p99_ms=${f(pct(s, 99))} max_ms=${f(Math.max(...s))} poll_p50_ms=${f(pct(p, 50))} poll_p99_ms=${f(pct(p, 99))} poll_ms=${POLL_MS}`,
    );
  } finally {
    await feed?.stop();
    await api?.close();
    await c.close();
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
