// Client for `GET /v1/watch?since=REV`: NDJSON lines, reconnect with backoff,
// resume from the last revision seen. Feeds a Replica.
// Events: connected, disconnected, snapshot(rev), applied({rev, at}),
// heartbeat(rev), auth_error(err), tls_error(CoordinatorCertError).
import { EventEmitter } from 'node:events';
import type { FeedMessage } from '../model/types.js';
import type { Replica } from './replica.js';
import { silentLogger, type Logger } from '../log.js';
import { checkCoordinatorUrl, coordinatorDispatcher, CoordinatorCertError, explainFetchError, isLoopbackHost, type CoordinatorTls } from './tls.js';

export interface FeedClientOptions {
  /** coordinator base URL, e.g. http://127.0.0.1:4280 */
  url: string;
  token: string;
  replica: Replica;
  logger?: Logger;
  /** no line (heartbeat included) for this long → reconnect */
  idleTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Transport policy (`--ca` / `--insecure`). When given, plain HTTP to a
   * non-loopback coordinator is refused (the constructor throws a usage
   * error) unless `insecure`, and `ca` is the only trust root for HTTPS.
   */
  tls?: CoordinatorTls;
}

export interface FeedHandlers {
  connected(): void;
  disconnected(): void;
  snapshot(rev: number): void;
  applied(a: { rev: number; at: string }): void;
  heartbeat(rev: number): void;
  authError(err: Error): void;
  tlsError(err: Error): void;
}

/** Handler name → the event it listens to. */
const FEED_EVENTS: Record<keyof FeedHandlers, string> = {
  connected: 'connected', disconnected: 'disconnected', snapshot: 'snapshot', applied: 'applied',
  heartbeat: 'heartbeat', authError: 'auth_error', tlsError: 'tls_error',
};

export class FeedClient extends EventEmitter {
  private readonly opts: Required<Omit<FeedClientOptions, 'logger' | 'tls'>>;
  private readonly log: Logger;
  private abort: AbortController | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly dispatcher: Record<string, unknown>;
  connected = false;
  /** Date.now() of the last line received (heartbeats included); 0 before any */
  lastMessageAt = 0;

  constructor(opts: FeedClientOptions) {
    super();
    const { tls, ...rest } = opts;
    this.opts = { idleTimeoutMs: 45_000, minBackoffMs: 200, maxBackoffMs: 10_000, ...rest };
    this.log = opts.logger ?? silentLogger;
    if (tls) checkCoordinatorUrl(opts.url, tls);
    const d = coordinatorDispatcher(tls);
    this.dispatcher = d ? { dispatcher: d } : {};
    if (!tls) {
      const u = URL.canParse(opts.url) ? new URL(opts.url) : null;
      if (u?.protocol === 'http:' && !isLoopbackHost(u.hostname)) this.log.warn({ url: u.origin }, 'feed: plain HTTP to a non-loopback coordinator: the token crosses the network in clear');
    }
  }

  /** Typed listeners for the client's events; returns the unsubscribe. */
  subscribe(h: Partial<FeedHandlers>): () => void {
    const on = (Object.keys(h) as (keyof FeedHandlers)[]).map((k) => [FEED_EVENTS[k], h[k] as (...a: unknown[]) => void] as const);
    for (const [ev, fn] of on) this.on(ev, fn);
    return () => { for (const [ev, fn] of on) this.off(ev, fn); };
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running?.catch(() => undefined);
    this.running = null;
  }

  private async loop(): Promise<void> {
    let backoff = this.opts.minBackoffMs;
    while (!this.stopped) {
      const gotData = await this.connectOnce().catch((raw: unknown) => {
        if (this.stopped) return false;
        const err = explainFetchError(raw, this.opts.url);
        if (err instanceof CoordinatorCertError) {
          // Refused: no data from an unverified coordinator; keep retrying in case the certificate is fixed.
          this.log.error({ err: err.message }, 'feed: coordinator certificate rejected');
          this.emit('tls_error', err);
        } else this.log.warn({ err: err.message, rev: this.opts.replica.rev }, 'feed disconnected');
        return false;
      });
      this.setConnected(false);
      if (this.stopped) break;
      if (gotData) backoff = this.opts.minBackoffMs;
      const wait = backoff * (0.5 + Math.random() / 2);
      backoff = Math.min(this.opts.maxBackoffMs, backoff * 2);
      await sleep(wait);
    }
  }

  private setConnected(v: boolean): void {
    if (this.connected === v) return;
    this.connected = v;
    this.emit(v ? 'connected' : 'disconnected');
  }

  /** One connection; resolves true when it received at least one line. */
  private async connectOnce(): Promise<boolean> {
    const replica = this.opts.replica;
    const ac = new AbortController();
    this.abort = ac;
    const since = replica.ready ? replica.rev : 0;
    const url = `${this.opts.url.replace(/\/$/, '')}/v1/watch?since=${since}`;
    let idle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => ac.abort(new Error('feed idle timeout')), this.opts.idleTimeoutMs);
    };
    arm();
    let got = false;
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${this.opts.token}` }, signal: ac.signal, ...this.dispatcher } as RequestInit);
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        const err = new Error(`watch failed: HTTP ${res.status} ${text.slice(0, 200)}`);
        if (res.status === 401 || res.status === 403) this.emit('auth_error', err);
        throw err;
      }
      this.setConnected(true);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          got = true;
          this.lastMessageAt = Date.now();
          this.handle(JSON.parse(line) as FeedMessage);
        }
      }
      return got;
    } finally {
      clearTimeout(idle);
      this.abort = null;
    }
  }

  private handle(msg: FeedMessage): void {
    const replica = this.opts.replica;
    switch (msg.type) {
      case 'snapshot':
        replica.applySnapshot(msg.rev, msg.state);
        this.log.info({ rev: msg.rev }, 'feed snapshot loaded');
        this.emit('snapshot', msg.rev);
        break;
      case 'change':
        if (replica.ready && msg.rev !== replica.rev + 1 && msg.rev > replica.rev) {
          // A gap should never happen; resync from a snapshot rather than drift.
          this.log.error({ have: replica.rev, got: msg.rev }, 'feed gap, resyncing');
          replica.ready = false;
          this.abort?.abort(new Error('gap'));
          return;
        }
        replica.applyChange(msg);
        this.emit('applied', { rev: msg.rev, at: msg.at });
        break;
      case 'heartbeat':
        this.emit('heartbeat', msg.rev);
        break;
      case 'bye':
        this.log.info({ reason: msg.reason }, 'coordinator closed the feed');
        break;
      case 'error':
        throw new Error(`feed error ${msg.code}: ${msg.message}`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
