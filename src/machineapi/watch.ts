// GET /v1/machines/watch on the machine API: the caller's app's machines as
// NDJSON, a snapshot line first, then one line per machine that changed
// (joined, left, stopped, turned critical, new metadata…), from this host's
// replica, so cluster software learns of a failure as soon as the host does
// instead of polling TXT records. Heartbeats keep idle proxies from cutting it.
import type { ServerResponse } from 'node:http';
import type { Replica } from '../feed/replica.js';
import type { Machine } from '../model/types.js';

/** What a member sees of each machine of its app. */
export interface MemberView {
  id: string;
  address: string;
  region: string;
  state: Machine['state'];
  health: NonNullable<Machine['health']>;
  metadata: Record<string, string>;
  group: string;
  leases: string[];
}

export type WatchLine =
  { type: 'snapshot'; rev: number; machines: MemberView[] } | { type: 'change'; rev: number; machine: MemberView } | { type: 'heartbeat'; rev: number };

export function memberView(m: Machine): MemberView {
  return {
    id: m.id,
    address: m.address,
    region: m.region,
    state: m.state,
    health: m.health ?? 'none',
    metadata: m.metadata,
    group: m.group,
    leases: m.leases ?? [],
  };
}

/** The app's machines now, by id (destroyed ones are gone from the replica). */
function appViews(replica: Replica, app: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of replica.machines.values()) if (m.app === app) out.set(m.id, JSON.stringify(memberView(m)));
  return out;
}

/**
 * The changed members between two views, in id order. A machine that left
 * the replica is reported `destroyed`, from its last view. Pure.
 */
export function diffViews(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): MemberView[] {
  const out: MemberView[] = [];
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const id of ids) {
    const b = before.get(id);
    const a = after.get(id);
    if (a === b) continue;
    out.push(a !== undefined ? (JSON.parse(a) as MemberView) : { ...(JSON.parse(b!) as MemberView), state: 'destroyed' });
  }
  return out;
}

/** Serve the stream on `res` until the client goes away. */
export function serveWatch(res: ServerResponse, replica: Replica, app: string, heartbeatMs = 15_000): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const send = (line: WatchLine): void => {
    res.write(`${JSON.stringify(line)}\n`);
  };
  let last = appViews(replica, app);
  send({ type: 'snapshot', rev: replica.rev, machines: [...last.values()].map((v) => JSON.parse(v) as MemberView) });
  const unsubscribe = replica.subscribe((u) => {
    if (u.ops !== null && !u.ops.some((o) => o.entity === 'machine' && o.op === 'upsert' && o.data.app === app)) return;
    const now = appViews(replica, app);
    for (const machine of diffViews(last, now)) send({ type: 'change', rev: u.rev, machine });
    last = now;
  });
  const beat = setInterval(() => send({ type: 'heartbeat', rev: replica.rev }), heartbeatMs);
  beat.unref();
  res.once('close', () => {
    clearInterval(beat);
    unsubscribe();
  });
}
