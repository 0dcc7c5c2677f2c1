// Serves `GET /v1/watch?since=REV`: NDJSON, a snapshot first when REV is 0
// or older than the kept changes, then every change in revision order, with
// heartbeats. One tail reader fills a ring of recent changes that every
// watcher reads from, so a commit costs one query however many watchers there
// are, and each change is serialized once: every watcher gets the same bytes.
// Snapshots are streamed and shared (snapshot-builds.ts). A host credential
// gets a host-scoped stream instead (host-scope.ts): the hub keeps the whole
// state (fleet-state.ts) to know which org each op is of.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { FEED_PROTO, type ChangeRecord, type FeedMessage } from '../model/types.js';
import { FleetState, type OpOrg } from './fleet-state.js';
import { HostScope } from './host-scope.js';
import { SnapshotAbandoned, SnapshotBuilds, type SnapshotBuildsOptions } from './snapshot-builds.js';
import { streamSnapshot } from '../store/snapshot-pages.js';
import type { Store } from '../store/store.js';
import type { StreamEnd } from './token-streams.js';

export interface FeedHubOptions {
  heartbeatMs?: number;
  /** how many recent changes stay in memory */
  ringSize?: number;
  /** a watcher whose socket does not drain within this is cut (it resumes from its revision) */
  drainTimeoutMs?: number;
  /**
   * A host-scoped stream that skipped changes (another org's) tells its
   * client how far it has read at most this often: its replica's revision,
   * and so its reported feed lag, follows the coordinator's.
   */
  positionMs?: number;
  /** how snapshots are shared, capped and paced */
  snapshot?: SnapshotBuildsOptions;
  logger: Logger;
}

/** Feed protocol from which a host credential's stream is host-scoped. */
export const SCOPED_PROTO = 3;

interface Watcher {
  res: ServerResponse;
  /** the last revision read */
  last: number;
  /** the last revision the client was told of (a change line or a heartbeat) */
  told: number;
  proto: number;
  /** a host credential's scope; null: the whole feed */
  scope: HostScope | null;
  wake: (() => void) | null;
  closed: boolean;
}

export class FeedHub {
  private ring: ChangeRecord[] = [];
  private head = 0;
  private readonly watchers = new Set<Watcher>();
  private tailing: Promise<void> | null = null;
  private tailAgain = false;
  private readonly heartbeatMs: number;
  private readonly ringSize: number;
  private readonly drainTimeoutMs: number;
  private readonly positionMs: number;
  private readonly log: Logger;
  /** the whole state at `head`, for host-scoped streams */
  readonly fleet = new FleetState();
  /** what FleetState said of each change in the ring: the org of each op */
  private readonly opOrgs = new WeakMap<ChangeRecord, OpOrg[]>();
  private unsubscribe: (() => void) | null = null;
  private closing = false;
  /** other readers of the ring (the dashboard stream), woken like watchers */
  private readonly taps = new Set<() => void>();
  /** each change's line, serialized once for every watcher (and the dashboard's unscoped streams) */
  private readonly lines = new WeakMap<ChangeRecord, Buffer>();
  private readonly empties = new WeakMap<ChangeRecord, Buffer>();
  readonly snapshots: SnapshotBuilds;

  constructor(
    private readonly store: Store,
    opts: FeedHubOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.ringSize = opts.ringSize ?? 20_000;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
    this.positionMs = opts.positionMs ?? 1000;
    this.log = opts.logger;
    this.snapshots = new SnapshotBuilds((pageSize) => this.fleet.freeze(pageSize), opts.snapshot ?? {}, {
      logger: opts.logger,
      stallMs: this.drainTimeoutMs,
      keepaliveMs: this.heartbeatMs,
    });
  }

  async start(): Promise<void> {
    // Page by page from one read view: the whole state is never held as objects at once.
    this.head = await streamSnapshot(this.store.backend, async (rev, pages) => {
      this.fleet.reset(rev);
      for await (const p of pages) this.fleet.addRows(p.kind, p.rows);
      return rev;
    });
    this.unsubscribe = this.store.onCommit(() => this.tail());
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get revision(): number {
    return this.head;
  }

  /** Pull new changes into the ring once per burst of commits. */
  private tail(): void {
    if (this.tailing) {
      this.tailAgain = true;
      return;
    }
    this.tailing = (async () => {
      do {
        this.tailAgain = false;
        const batch: ChangeRecord[] = [];
        for (;;) {
          const recs = await this.store.changesSince(this.head, 1000);
          if (recs.length === 0) break;
          batch.push(...recs);
          for (const r of recs) {
            this.opOrgs.set(r, this.fleet.apply(r));
            this.ring.push(r);
          }
          this.head = recs[recs.length - 1]!.rev;
          if (this.ring.length > this.ringSize) this.ring = this.ring.slice(this.ring.length - this.ringSize);
        }
        // A host-scoped stream is woken only by what it takes; the rest it reads when it next tells its position.
        for (const w of this.watchers) if (!w.scope || w.scope.wants(batch, this.opOrgs)) w.wake?.();
        for (const t of this.taps) t();
      } while (this.tailAgain);
    })()
      .catch((err: unknown) => this.log.error({ err }, 'feed tail failed'))
      .finally(() => {
        this.tailing = null;
      });
  }

  /** Call `fn` whenever new changes reach the ring; returns the unsubscribe. */
  onAdvance(fn: () => void): () => void {
    this.taps.add(fn);
    return () => {
      this.taps.delete(fn);
    };
  }

  /** Up to 1000 changes after `rev`, from the ring when it covers them, else from the store. */
  async changesAfter(rev: number): Promise<ChangeRecord[]> {
    const first = this.ring[0];
    if (first && first.rev <= rev + 1) {
      const start = rev + 1 - first.rev;
      return this.ring.slice(start, start + 1000);
    }
    return this.store.changesSince(rev, 1000);
  }

  /** The change with its ops left out, for host-scoped streams of clients before SCOPED_PROTO. */
  private emptyLine(r: ChangeRecord): Buffer {
    let b = this.empties.get(r);
    if (!b) this.empties.set(r, (b = Buffer.from(line({ type: 'change', rev: r.rev, at: r.at, ops: [] }))));
    return b;
  }

  /** The change's `change` line, serialized on first use and shared by every stream that sends it whole. */
  changeLine(r: ChangeRecord): Buffer {
    let b = this.lines.get(r);
    if (!b) this.lines.set(r, (b = Buffer.from(line({ type: 'change', rev: r.rev, at: r.at, ops: r.ops }))));
    return b;
  }

  /**
   * Stream to `res` until the client goes away, the hub closes or `end`
   * aborts (its reason, a StreamEnd, is sent as a last `error` line). `proto`
   * is the feed protocol the client asked for (1 when it did not say);
   * `hostId`, the host a host credential is of: its stream is scoped to that
   * host, always from a snapshot. Changes it skips are left out from
   * SCOPED_PROTO on (a heartbeat says how far it read), and sent as empty
   * changes to older clients, which expect every revision.
   */
  async serve(res: ServerResponse, since: number, end?: AbortSignal, proto = 1, hostId?: number): Promise<void> {
    proto = Math.max(1, Math.min(FEED_PROTO, proto));
    // A host credential's stream is always host-scoped: it is what a stolen one could read.
    const scope = hostId !== undefined ? new HostScope(hostId, this.fleet) : null;
    const w: Watcher = { res, last: since, told: since, proto, scope, wake: null, closed: false };
    this.watchers.add(w);
    const onClose = (): void => {
      w.closed = true;
      w.wake?.();
    };
    res.on('close', onClose);
    const onEnd = (): void => w.wake?.();
    end?.addEventListener('abort', onEnd);
    // connection: close — a finished stream must not leave a keep-alive socket behind (it would hold up shutdown).
    res.writeHead(200, {
      'content-type': 'application/x-ndjson',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'close',
      'sixpn-feed-proto': String(proto),
    });
    // Send the headers now: a watch opened at the head would otherwise wait for its first line.
    res.flushHeaders();
    try {
      if (end?.aborted) {
        // A token that ended before we got here gets no snapshot, only its error line.
      } else if (scope) {
        // In memory and small (the host rows and its orgs'): written at once, then paced like a change burst.
        const snap = scope.snapshot(proto);
        w.res.cork();
        for (const b of snap.bytes) w.res.write(b);
        w.res.uncork();
        w.last = w.told = snap.rev;
        await this.drained(w);
        this.log.debug({ host: hostId, orgs: scope.orgCount, rev: snap.rev }, 'host-scoped snapshot sent');
      } else if (since === 0 || since < (await this.store.oldestResumableRev()) || since > Math.max(this.head, await this.store.rev())) {
        try {
          w.last = await this.snapshots.send(res, proto, end);
        } catch (err) {
          // A token that ends mid-snapshot still gets its error line, on a line of its own.
          if (!(err instanceof SnapshotAbandoned && end?.aborted && !err.midLine)) throw err;
        }
      }
      let lastWrite = Date.now();
      // A scoped stream is not woken for changes it skips (tail): it looks again every positionMs.
      while (!w.closed && !this.closing && !end?.aborted) {
        const recs = await this.changesAfter(w.last);
        if (recs.length > 0) {
          const told = w.told;
          // A burst goes out in one write to the socket; the lines themselves are shared bytes.
          w.res.cork();
          try {
            for (const r of recs) {
              if (r.rev !== w.last + 1) throw new Error(`feed gap at ${w.last} -> ${r.rev}`);
              if (scope) this.writeScoped(w, scope, r);
              else w.res.write(this.changeLine(r));
              w.last = r.rev;
              if (!scope) w.told = r.rev;
              if (w.closed || end?.aborted) break;
            }
          } finally {
            w.res.uncork();
          }
          await this.drained(w);
          if (w.told !== told) lastWrite = Date.now();
          continue;
        }
        // A scoped stream that skipped changes says how far it read, soon: not at every skip.
        const due = (w.told < w.last ? this.positionMs : this.heartbeatMs) - (Date.now() - lastWrite);
        if (due <= 0) {
          await this.write(w, { type: 'heartbeat', rev: w.last });
          w.told = w.last;
          lastWrite = Date.now();
          continue;
        }
        await new Promise<void>((resolve) => {
          if (w.closed || end?.aborted) {
            resolve();
            return;
          } // ended while we read
          const t = setTimeout(resolve, scope ? Math.min(due, this.positionMs) : due);
          w.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        w.wake = null;
      }
      if (end?.aborted && !w.closed) {
        const why = end.reason as StreamEnd;
        res.write(line({ type: 'error', code: why.code, message: why.message }));
      } else if (this.closing && !w.closed) res.write(line({ type: 'bye', rev: w.last, reason: 'coordinator shutting down' }));
    } catch (err) {
      if (!w.closed) this.log.warn({ err: String(err), last: w.last }, 'watch stream cut');
    } finally {
      this.watchers.delete(w);
      res.off('close', onClose);
      end?.removeEventListener('abort', onEnd);
      if (!res.destroyed) res.end();
    }
  }

  /** One change through a host's scope: whole (shared bytes), in part, or not at all. */
  private writeScoped(w: Watcher, scope: HostScope, r: ChangeRecord): void {
    const orgs = this.opOrgs.get(r);
    // Read back from the store, not the ring: what its ops are of is no longer known here.
    if (!orgs) throw new Error(`host-scoped watcher fell behind the ring (at ${w.last})`);
    const ops = scope.filter(r, orgs);
    if (ops !== 'whole' && ops.length === 0) {
      if (w.proto < SCOPED_PROTO) {
        w.res.write(this.emptyLine(r));
        w.told = r.rev;
      }
      return;
    }
    // The client checks each change follows the last revision it knows: tell it what was skipped.
    if (w.told < r.rev - 1) w.res.write(line({ type: 'heartbeat', rev: r.rev - 1 }));
    w.res.write(ops === 'whole' ? this.changeLine(r) : line({ type: 'change', rev: r.rev, at: r.at, ops }));
    w.told = r.rev;
  }

  /** Write one line; wait for the socket to drain, cutting readers that stay stuck. */
  private async write(w: Watcher, msg: FeedMessage): Promise<void> {
    if (w.closed) return;
    w.res.write(line(msg));
    await this.drained(w);
  }

  /** Wait until the socket takes what was written; a reader stuck for the drain timeout is cut. */
  private async drained(w: Watcher): Promise<void> {
    if (w.closed || !w.res.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        w.res.destroy();
        reject(new Error('watcher too slow: not drained in time'));
      }, this.drainTimeoutMs);
      const done = (): void => {
        clearTimeout(t);
        w.res.off('drain', done);
        w.res.off('close', done);
        resolve();
      };
      w.res.on('drain', done);
      w.res.on('close', done);
    });
  }

  /** Graceful: every stream gets a final `bye` line. */
  async close(): Promise<void> {
    this.closing = true;
    this.unsubscribe?.();
    for (const w of this.watchers) w.wake?.();
    const deadline = Date.now() + 2000;
    while (this.watchers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const w of this.watchers) w.res.destroy();
    await this.tailing;
  }
}

function line(msg: FeedMessage): string {
  return `${JSON.stringify(msg)}\n`;
}
