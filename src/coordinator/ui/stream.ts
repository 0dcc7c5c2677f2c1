// The dashboard's live stream: a scoped snapshot, then the feed hub's changes
// passed through the token's ScopeView, gateway peer reports as they move, and
// heartbeats. Nothing outside the token's scope is ever written to the socket:
// a change goes out as the hub's shared bytes only when every op of it passed
// this stream's ScopeView unchanged.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import type { TokenInfo } from '../../model/auth.js';
import type { Store } from '../../store/store.js';
import type { HostStatusMap, PeerStatusMap, UiMessage } from '../../ui/protocol.js';
import type { FeedHub } from '../feed-hub.js';
import type { StreamEnd } from '../token-streams.js';
import { ScopeView, type Visibility } from './scope.js';

export interface UiStreamOptions {
  logger: Logger;
  heartbeatMs?: number;
  /** how often the gateways' peer reports are re-read */
  peerStatusMs?: number;
  /** a reader whose socket does not drain within this is cut (the page reconnects) */
  drainTimeoutMs?: number;
}

interface Stream {
  res: ServerResponse;
  wake: () => void;
  closed: boolean;
  /** woken since the last read: a wake that lands while the loop reads is not lost */
  dirty: boolean;
}

export function visibilityOf(t: TokenInfo): Visibility {
  return t.scope === 'admin' || t.scope === 'reader' ? { all: true } : { all: false, org: t.org ?? '' };
}

export class UiStreams {
  private readonly open = new Set<Stream>();
  private closing = false;
  private readonly heartbeatMs: number;
  private readonly peerStatusMs: number;
  private readonly drainTimeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly hub: FeedHub,
    private readonly opts: UiStreamOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.peerStatusMs = opts.peerStatusMs ?? 2000;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  }

  get count(): number {
    return this.open.size;
  }

  /**
   * Stream to `res` until the page goes away, the coordinator closes or `end`
   * aborts (the token was revoked or expired: its reason is the last line).
   */
  async serve(res: ServerResponse, token: TokenInfo, end?: AbortSignal): Promise<void> {
    let wakeup: (() => void) | null = null;
    const s: Stream = {
      res,
      closed: false,
      dirty: false,
      wake: () => {
        s.dirty = true;
        wakeup?.();
      },
    };
    this.open.add(s);
    const onClose = (): void => {
      s.closed = true;
      s.wake();
    };
    res.on('close', onClose);
    const off = this.hub.onAdvance(() => s.wake());
    const onEnd = (): void => s.wake();
    end?.addEventListener('abort', onEnd);
    const view = new ScopeView(visibilityOf(token));
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'close' });
    res.flushHeaders();
    let last = 0;
    try {
      if (end?.aborted) throw new Ended();
      await this.write(s, { type: 'hello', scope: token.scope, org: token.org });
      const snap = await this.store.snapshot();
      const state = view.snapshot(snap.state);
      let peers = await this.peerStatus(view);
      await this.write(s, { type: 'snapshot', rev: snap.rev, state, peer_status: peers });
      let links = await this.hostStatus(view);
      if (Object.keys(links).length > 0) await this.write(s, { type: 'host_status', status: links });
      last = snap.rev;
      let lastWrite = Date.now();
      let nextPeers = Date.now() + this.peerStatusMs;
      while (!s.closed && !this.closing && !end?.aborted) {
        s.dirty = false;
        const recs = await this.hub.changesAfter(last);
        for (const r of recs) {
          if (r.rev !== last + 1) throw new Error(`feed gap at ${last} -> ${r.rev}`);
          const ops = view.change(r.ops);
          if (ops.length > 0) {
            // The whole change is in scope: the bytes the feed hub serialized once for every stream.
            const whole = ops.length === r.ops.length && ops.every((op, i) => op === r.ops[i]);
            await this.write(s, whole ? this.hub.changeLine(r) : { type: 'change', rev: r.rev, at: r.at, ops });
            lastWrite = Date.now();
          }
          last = r.rev;
        }
        if (recs.length > 0) continue;
        const t = Date.now();
        if (t >= nextPeers) {
          nextPeers = t + this.peerStatusMs;
          const now = await this.peerStatus(view);
          const moved = changed(peers, now);
          peers = now;
          if (moved) {
            await this.write(s, { type: 'peer_status', status: moved });
            lastWrite = Date.now();
          }
          const linksNow = await this.hostStatus(view);
          const relinked = changedLinks(links, linksNow);
          links = linksNow;
          if (relinked) {
            await this.write(s, { type: 'host_status', status: relinked });
            lastWrite = Date.now();
          }
        }
        if (Date.now() - lastWrite >= this.heartbeatMs) {
          await this.write(s, { type: 'heartbeat', rev: last });
          lastWrite = Date.now();
        }
        const wait = Math.max(1, Math.min(nextPeers, lastWrite + this.heartbeatMs) - Date.now());
        await new Promise<void>((resolve) => {
          if (s.dirty) {
            resolve();
            return;
          }
          const timer = setTimeout(resolve, wait);
          wakeup = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeup = null;
      }
      if (end?.aborted) throw new Ended();
      if (this.closing && !s.closed) await this.write(s, { type: 'bye', rev: last, reason: 'coordinator shutting down' });
    } catch (err) {
      if (err instanceof Ended) {
        const why = end!.reason as StreamEnd;
        await this.write(s, { type: 'error', code: why.code, message: why.message }).catch(() => undefined);
      } else if (!s.closed) this.opts.logger.warn({ err: String(err), last }, 'dashboard stream cut');
    } finally {
      off();
      end?.removeEventListener('abort', onEnd);
      this.open.delete(s);
      res.off('close', onClose);
      if (!res.destroyed) res.end();
    }
  }

  /** Gateway reports for the peers this stream shows. */
  private async peerStatus(view: ScopeView): Promise<PeerStatusMap> {
    const out: PeerStatusMap = {};
    for (const key of view.peerKeys()) {
      const slash = key.indexOf('/');
      out[key] = await this.store.getPeerStatus(key.slice(0, slash), key.slice(slash + 1));
    }
    return out;
  }

  /** The shown hosts' handshakes with each other, from their agents' reports (none shown: no read). */
  private async hostStatus(view: ScopeView): Promise<HostStatusMap> {
    const shown = new Set(view.hostIds());
    if (shown.size === 0) return {};
    const out: HostStatusMap = {};
    for (const h of await this.store.listHostsWithStatus()) {
      if (!shown.has(h.id) || !h.report) continue;
      out[h.id] = h.report.peers.filter((p) => shown.has(p.host_id)).map((p) => ({ host_id: p.host_id, latest_handshake: p.latest_handshake }));
    }
    return out;
  }

  /** One line; wait for the socket to drain, cutting readers that stay stuck. */
  private async write(s: Stream, msg: UiMessage | Buffer): Promise<void> {
    if (s.closed) return;
    if (s.res.write(Buffer.isBuffer(msg) ? msg : `${JSON.stringify(msg)}\n`)) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        s.res.destroy();
        reject(new Error('dashboard reader too slow: not drained in time'));
      }, this.drainTimeoutMs);
      const done = (): void => {
        clearTimeout(t);
        s.res.off('drain', done);
        s.res.off('close', done);
        resolve();
      };
      s.res.on('drain', done);
      s.res.on('close', done);
    });
  }

  /** Every open stream gets a `bye` line and ends. */
  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.open) s.wake();
    const deadline = Date.now() + 2000;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.open) s.res.destroy();
  }
}

/** The token ended the stream (revoked or expired). */
class Ended extends Error {}

/** The entries of `now` that differ from `before` (a removed peer's entry is dropped by its delete op). */
function changed(before: PeerStatusMap, now: PeerStatusMap): PeerStatusMap | null {
  const out: PeerStatusMap = {};
  let any = false;
  for (const [k, v] of Object.entries(now)) {
    if (JSON.stringify(before[k] ?? null) !== JSON.stringify(v)) {
      out[k] = v;
      any = true;
    }
  }
  return any ? out : null;
}

/**
 * The hosts whose links differ from `before`. A report gives handshake
 * times to the second, rounded at each report: a second either way is the same.
 */
function changedLinks(before: HostStatusMap, now: HostStatusMap): HostStatusMap | null {
  const t = (iso: string | null): number => (iso === null ? -1 : Date.parse(iso));
  const same = (a: HostStatusMap[string] | undefined, b: HostStatusMap[string]): boolean =>
    !!a && a.length === b.length && a.every((l, i) => l.host_id === b[i]!.host_id && Math.abs(t(l.latest_handshake) - t(b[i]!.latest_handshake)) <= 1500);
  const out: HostStatusMap = {};
  for (const [k, v] of Object.entries(now)) if (!same(before[k], v)) out[k] = v;
  return Object.keys(out).length > 0 ? out : null;
}
