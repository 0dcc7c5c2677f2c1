// Client for `GET /v1/watch?since=REV`: NDJSON lines, reconnect with backoff,
// resume from the last revision seen. Feeds a Replica.
import { EventEmitter } from 'node:events';
import type { FeedMessage } from '../model/types.js';
import type { Replica } from './replica.js';
import { silentLogger, type Logger } from '../log.js';

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
  /** extra fetch options (e.g. an undici dispatcher carrying a CA) */
  fetchInit?: Record<string, unknown>;
}

export class FeedClient extends EventEmitter {
  private readonly opts: Required<Omit<FeedClientOptions, 'fetchInit' | 'logger'>> & Pick<FeedClientOptions, 'fetchInit'>;
  private readonly log: Logger;
  private abort: AbortController | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  connected = false;

  constructor(opts: FeedClientOptions) {
    super();
    this.opts = { idleTimeoutMs: 45_000, minBackoffMs: 200, maxBackoffMs: 10_000, ...opts };
    this.log = opts.logger ?? silentLogger;
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
      const gotData = await this.connectOnce().catch((err: unknown) => {
        if (!this.stopped) this.log.warn({ err: String(err), rev: this.opts.replica.rev }, 'feed disconnected');
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
      const res = await fetch(url, { headers: { authorization: `Bearer ${this.opts.token}` }, signal: ac.signal, ...(this.opts.fetchInit ?? {}) } as RequestInit);
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
