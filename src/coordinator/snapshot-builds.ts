// Snapshots for the watch feed, streamed page by page. Watchers that need one
// at about the same time share one build: the hub's state frozen at one
// revision (fleet-state.ts: the rows' JSON texts, in the store's order), each
// page joined once, the same bytes written to each of them. At
// most `maxBuilds` builds run at once; the watchers that come meanwhile wait
// together (getting keep-alive bytes, so their idle timers do not fire) and
// share the next one. A page is read only once every reader has taken in all
// but `lagBytes` of what it was sent (backpressure), so the coordinator holds
// a window of pages, never the whole snapshot. A slow reader is paced, not
// cut; only one that takes in nothing at all for `stallMs` is cut.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { FrozenSnapshot, SnapshotFrag } from './fleet-state.js';
import { framedSnapshot, singleLineSnapshot, type SnapshotFramer } from './snapshot-frames.js';

export interface SnapshotBuildsOptions {
  /** builds running at once (default 2) */
  maxBuilds?: number;
  /** how long a new build waits for more watchers to share it (default 20 ms) */
  gatherMs?: number;
  /** bytes a reader may have outstanding before the next page waits for it (default 1 MiB) */
  lagBytes?: number;
  /** rows per page (default 500) */
  pageSize?: number;
}

export interface SnapshotBuildsDeps {
  logger: Logger;
  /** a reader that takes in nothing for this long is cut */
  stallMs: number;
  /** how often a waiting watcher gets a keep-alive newline */
  keepaliveMs: number;
}

interface Member {
  res: ServerResponse;
  framer: SnapshotFramer;
  /** the framer wrote its begin and not yet its end */
  open: boolean;
  done: (err: Error | null, rev?: number) => void;
}

interface Build {
  members: Set<Member>;
}

/** The watcher went away (or was cut) before its snapshot was complete. */
export class SnapshotAbandoned extends Error {
  /** the stream stops inside a line (the single-line framing had begun) */
  midLine = false;
}

export class SnapshotBuilds {
  /** builds started since the coordinator started */
  started = 0;
  /** builds running now */
  active = 0;
  private pending: Build | null = null;
  private slotFreed: (() => void) | null = null;
  private readonly maxBuilds: number;
  private readonly gatherMs: number;
  private readonly lagBytes: number;
  private readonly pageSize: number;

  constructor(
    /** the whole state now, in pages of the given size */
    private readonly source: (pageSize: number) => FrozenSnapshot,
    opts: SnapshotBuildsOptions,
    private readonly deps: SnapshotBuildsDeps,
  ) {
    this.maxBuilds = Math.max(1, opts.maxBuilds ?? 2);
    this.gatherMs = opts.gatherMs ?? 20;
    this.lagBytes = opts.lagBytes ?? 1 << 20;
    this.pageSize = opts.pageSize ?? 500;
  }

  /** watchers waiting for a build to start */
  get waiting(): number {
    return this.pending?.members.size ?? 0;
  }

  /**
   * Write a whole snapshot to `res` in the framing of `proto` (2: framed
   * lines, 1: the single line older clients read); resolves with its
   * revision, rejects with SnapshotAbandoned when the watcher went away.
   */
  send(res: ServerResponse, proto: number, signal?: AbortSignal): Promise<number> {
    let build = this.pending;
    if (!build) {
      build = this.pending = { members: new Set() };
      void this.run(build);
    }
    const members = build.members;
    return new Promise<number>((resolve, reject) => {
      const m: Member = {
        res,
        framer: proto >= 2 ? framedSnapshot(proto) : singleLineSnapshot(),
        open: false,
        done: (err, rev) => {
          if (!members.delete(m)) return;
          if (err instanceof SnapshotAbandoned) err.midLine = m.open && proto < 2;
          res.off('close', gone);
          signal?.removeEventListener('abort', gone);
          if (err) reject(err);
          else resolve(rev!);
        },
      };
      const gone = (): void => m.done(new SnapshotAbandoned('the watcher went away'));
      members.add(m);
      res.on('close', gone);
      signal?.addEventListener('abort', gone);
      if (res.destroyed || signal?.aborted) gone();
    });
  }

  private async run(build: Build): Promise<void> {
    const keepalive = setInterval(() => {
      for (const m of build.members) if (!m.res.writableNeedDrain) m.res.write('\n');
    }, this.deps.keepaliveMs);
    try {
      await sleep(this.gatherMs);
      while (this.active >= this.maxBuilds) await new Promise<void>((r) => (this.slotFreed = r));
    } finally {
      clearInterval(keepalive);
      this.pending = null;
    }
    if (build.members.size === 0) return;
    this.active++;
    this.started++;
    try {
      const snap = this.source(this.pageSize);
      await this.stream(build, snap.rev, snap.pages);
    } catch (err) {
      if (!(err instanceof SnapshotAbandoned)) this.deps.logger.warn({ err: String(err) }, 'snapshot build failed');
      const why = err instanceof Error ? err : new Error(String(err));
      for (const m of [...build.members]) m.done(err instanceof SnapshotAbandoned ? new SnapshotAbandoned(err.message) : why);
    } finally {
      this.active--;
      const next = this.slotFreed;
      this.slotFreed = null;
      next?.();
    }
  }

  private async stream(build: Build, rev: number, pages: Iterable<SnapshotFrag>): Promise<void> {
    for (const m of build.members) {
      write(m, m.framer.begin(rev));
      m.open = true;
    }
    let rows = 0;
    for (const page of pages) {
      if (build.members.size === 0) throw new SnapshotAbandoned('every watcher went away');
      rows += page.rows;
      for (const m of build.members) write(m, m.framer.rows(page.kind, page.frag));
      await this.pace(build);
      // Pages are made synchronously: let requests and other streams run between them.
      await new Promise((r) => setImmediate(r));
    }
    for (const m of [...build.members]) {
      write(m, m.framer.end(rev, rows));
      m.open = false;
      m.done(null, rev);
    }
  }

  /** Wait until every member has at most `lagBytes` outstanding; cut the ones that take in nothing. */
  private async pace(build: Build): Promise<void> {
    for (const m of [...build.members]) {
      while (build.members.has(m) && m.res.writableLength > this.lagBytes) {
        const before = m.res.writableLength;
        const drained = await drainOrTimeout(m.res, this.deps.stallMs);
        if (drained || m.res.writableLength < before) continue;
        m.done(new SnapshotAbandoned(`snapshot reader took in nothing for ${this.deps.stallMs} ms`));
        m.res.destroy();
      }
    }
  }
}

function write(m: Member, bufs: Buffer[]): void {
  if (bufs.length === 0 || m.res.destroyed) return;
  m.res.cork();
  for (const b of bufs) m.res.write(b);
  m.res.uncork();
}

/** true on `drain` (or `close`), false when `ms` passed first. */
function drainOrTimeout(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (v: boolean): void => {
      clearTimeout(t);
      res.off('drain', onDrain);
      res.off('close', onDrain);
      resolve(v);
    };
    const onDrain = (): void => done(true);
    const t = setTimeout(() => done(false), ms);
    res.on('drain', onDrain);
    res.on('close', onDrain);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
