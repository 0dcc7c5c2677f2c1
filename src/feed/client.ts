// Client for `GET /v1/watch?since=REV`: NDJSON lines, reconnect with backoff,
// resume from the last revision seen. Feeds a Replica through its methods only;
// observers subscribe with typed handlers (FeedHandlers).
import { FEED_PROTO, type FeedMessage, type State } from '../model/types.js';
import type { Replica, ReplicaUnknown } from './replica.js';
import { request, type Dispatcher } from 'undici';
import { StringDecoder } from 'node:string_decoder';
import { BUILD } from '../version.js';
import { silentLogger, type Logger } from '../log.js';
import { checkCoordinatorUrl, coordinatorDispatcher, CoordinatorCertError, explainFetchError, isLoopbackHost, type CoordinatorTls } from './tls.js';

/** What a FeedClient reports; subscribe to any subset. */
export interface FeedHandlers {
  connected(): void;
  disconnected(): void;
  /** a snapshot replaced the replica's contents */
  snapshot(rev: number): void;
  /** a change record was applied; `at` is its commit time (coordinator clock) */
  applied(a: { rev: number; at: string }): void;
  heartbeat(rev: number): void;
  /** the coordinator refused the token (HTTP 401/403); the client keeps retrying */
  authError(err: Error): void;
  /** the coordinator's certificate was rejected (CoordinatorCertError); the client keeps retrying */
  tlsError(err: Error): void;
}

export interface FeedClientOptions {
  /** coordinator base URL, e.g. http://127.0.0.1:4280 */
  url: string;
  token: string;
  replica: Replica;
  logger?: Logger;
  /** no byte (keep-alives included) for this long → reconnect */
  idleTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Transport policy (`--ca` / `--insecure`). When given, plain HTTP to a
   * non-loopback coordinator is refused (the constructor throws a usage
   * error) unless `insecure`, and `ca` is the only trust root for HTTPS.
   */
  tls?: CoordinatorTls;
  /** User-Agent of the watch request (userAgent('dns'), userAgent('agent')) */
  userAgent?: string;
}

export class FeedClient {
  private readonly opts: Required<Omit<FeedClientOptions, 'logger' | 'tls'>>;
  private readonly log: Logger;
  private abort: AbortController | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly subscribers = new Set<Partial<FeedHandlers>>();
  private _connected = false;
  private _lastMessageAt = 0;
  /** message types and protocol versions already warned about (once each) */
  private readonly warned = new Set<string>();
  /** a streamed snapshot being received (proto 2): applied whole at its end line */
  private incoming: { rev: number; state: State; rows: number } | null = null;

  constructor(opts: FeedClientOptions) {
    const { tls, ...rest } = opts;
    this.opts = { idleTimeoutMs: 45_000, minBackoffMs: 200, maxBackoffMs: 10_000, userAgent: `sixpn/${BUILD}`, ...rest };
    this.log = opts.logger ?? silentLogger;
    if (tls) checkCoordinatorUrl(opts.url, tls);
    this.dispatcher = coordinatorDispatcher(tls);
    opts.replica.onUnknown((u: ReplicaUnknown) => {
      this.log.warn({ unknown: u.what, kind: u.name }, 'feed: skipping changes this version does not know (the coordinator is newer)');
    });
    if (!tls) {
      const u = URL.canParse(opts.url) ? new URL(opts.url) : null;
      if (u?.protocol === 'http:' && !isLoopbackHost(u.hostname))
        this.log.warn({ url: u.origin }, 'feed: plain HTTP to a non-loopback coordinator: the token crosses the network in clear');
    }
  }

  /** true while a watch stream is open */
  get connected(): boolean {
    return this._connected;
  }
  /** Date.now() of the last line received (heartbeats included); 0 before any */
  get lastMessageAt(): number {
    return this._lastMessageAt;
  }

  /** Call the given handlers from now on; returns the unsubscribe. */
  subscribe(h: Partial<FeedHandlers>): () => void {
    this.subscribers.add(h);
    return () => {
      this.subscribers.delete(h);
    };
  }

  private emit<K extends keyof FeedHandlers>(event: K, ...args: Parameters<FeedHandlers[K]>): void {
    for (const h of [...this.subscribers]) (h[event] as ((...a: Parameters<FeedHandlers[K]>) => void) | undefined)?.(...args);
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
          this.emit('tlsError', err);
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
    if (this._connected === v) return;
    this._connected = v;
    this.emit(v ? 'connected' : 'disconnected');
  }

  /** One connection; resolves true when it received at least one line. */
  private async connectOnce(): Promise<boolean> {
    const replica = this.opts.replica;
    const ac = new AbortController();
    this.abort = ac;
    const since = replica.ready ? replica.rev : 0;
    const url = `${this.opts.url.replace(/\/$/, '')}/v1/watch?since=${since}`;
    const idle = setTimeout(() => ac.abort(new Error('feed idle timeout')), this.opts.idleTimeoutMs);
    const lines = new LineSplitter();
    let got = false;
    try {
      // undici's request(), not fetch(): its body is a Node stream read by 'data' events, with
      // none of a WHATWG stream's promises per chunk (the feed is one chunk per change).
      const res = await request(url, {
        headers: { authorization: `Bearer ${this.opts.token}`, 'user-agent': this.opts.userAgent, 'sixpn-feed-proto': String(FEED_PROTO) },
        signal: ac.signal,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        const err = new Error(`watch failed: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
        if (res.statusCode === 401 || res.statusCode === 403) this.emit('authError', err);
        throw err;
      }
      this.setConnected(true);
      this.incoming = null;
      await new Promise<void>((resolve, reject) => {
        const body = res.body;
        const fail = (err: unknown): void => {
          body.destroy();
          reject(ac.signal.aborted ? (ac.signal.reason ?? err) : err);
        };
        body.on('data', (chunk: Buffer) => {
          idle.refresh(); // every byte counts as life, so a long snapshot never looks idle
          try {
            for (const line of lines.push(chunk)) {
              got = true;
              this._lastMessageAt = Date.now();
              this.handle(JSON.parse(line) as FeedMessage);
              // A gap (or stop) aborted this stream: the rest of the chunk must not be applied over it.
              if (ac.signal.aborted) throw ac.signal.reason;
            }
          } catch (err) {
            fail(err);
          }
        });
        body.once('error', fail);
        body.once('end', resolve);
      });
      return got;
    } finally {
      clearTimeout(idle);
      this.abort = null;
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, text: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(fields, text);
  }

  private handle(msg: FeedMessage): void {
    const replica = this.opts.replica;
    switch (msg.type) {
      case 'snapshot':
        if ((msg.proto ?? 1) > FEED_PROTO) {
          this.warnOnce(
            `proto:${msg.proto}`,
            { proto: msg.proto, known: FEED_PROTO },
            'feed: the coordinator speaks a newer feed protocol; upgrade this sixpn',
          );
        }
        replica.applySnapshot(msg.rev, msg.state);
        this.log.info({ rev: msg.rev }, 'feed snapshot loaded');
        this.emit('snapshot', msg.rev);
        break;
      case 'snapshot_begin':
        if (msg.proto > FEED_PROTO) {
          this.warnOnce(
            `proto:${msg.proto}`,
            { proto: msg.proto, known: FEED_PROTO },
            'feed: the coordinator speaks a newer feed protocol; upgrade this sixpn',
          );
        }
        this.incoming = { rev: msg.rev, rows: 0, state: { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] } };
        break;
      case 'snapshot_rows': {
        const into = this.incoming;
        if (!into) throw new Error('feed: snapshot rows outside a snapshot');
        into.rows += msg.rows.length;
        const list = (into.state as unknown as Record<string, unknown[] | undefined>)[msg.kind];
        // Rows of a kind this version does not know are skipped, like the kinds of a one-line snapshot.
        if (list) for (const r of msg.rows) list.push(r);
        break;
      }
      case 'snapshot_end': {
        const into = this.incoming;
        this.incoming = null;
        if (!into || into.rev !== msg.rev || into.rows !== msg.rows)
          throw new Error(`feed: snapshot ${msg.rev} incomplete (${into?.rows ?? 0} of ${msg.rows} rows at rev ${into?.rev ?? '?'})`);
        replica.applySnapshot(into.rev, into.state);
        this.log.info({ rev: into.rev, rows: into.rows }, 'feed snapshot loaded');
        this.emit('snapshot', into.rev);
        break;
      }
      case 'change':
        if (this.incoming) throw new Error('feed: a change inside a snapshot');
        if (replica.ready && msg.rev !== replica.rev + 1 && msg.rev > replica.rev) {
          // A gap should never happen; resync from a snapshot rather than drift.
          this.log.error({ have: replica.rev, got: msg.rev }, 'feed gap, resyncing');
          replica.markStale();
          this.abort?.abort(new Error('gap'));
          return;
        }
        replica.applyChange(msg);
        this.emit('applied', { rev: msg.rev, at: msg.at });
        break;
      case 'heartbeat':
        // Everything up to here was sent: a host-scoped stream skipped other orgs' changes (proto 3).
        if (replica.ready && !this.incoming && msg.rev > replica.rev) replica.applyChange({ rev: msg.rev, at: '', ops: [] });
        this.emit('heartbeat', msg.rev);
        break;
      case 'bye':
        this.log.info({ reason: msg.reason }, 'coordinator closed the feed');
        break;
      case 'error':
        throw new Error(`feed error ${msg.code}: ${msg.message}`);
      default: {
        const type = String((msg as { type?: unknown }).type);
        this.warnOnce(`type:${type}`, { type }, 'feed: skipping a message type this version does not know');
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * NDJSON lines out of byte chunks. A line longer than the chunks so far (an
 * old coordinator's one-line snapshot) is kept in pieces: only new text is
 * searched for its end, so a long line costs its length, not its square.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private head: string[] = [];

  /** The complete, non-blank lines that `chunk` ends. */
  push(chunk: Buffer): string[] {
    const text = this.decoder.write(chunk);
    // The common case (a change line per chunk): the text itself, no copy (JSON.parse skips the newline).
    if (!this.head.length && text.charCodeAt(0) === 0x7b && text.indexOf('\n') === text.length - 1) return [text];
    const out: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      let line = text.slice(start, nl);
      start = nl + 1;
      if (this.head.length) {
        this.head.push(line);
        line = this.head.join('');
        this.head = [];
      }
      if (line.trim()) out.push(line);
    }
    if (start < text.length) this.head.push(text.slice(start));
    return out;
  }
}
