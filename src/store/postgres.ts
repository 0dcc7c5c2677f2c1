// PostgreSQL backend for several coordinators on one database. Every write
// first takes the row lock on `revision`, so writes from all coordinators are
// serialized: commit order is revision order, and the explicit "already
// exists?" checks in store.ts see every earlier commit (READ COMMITTED takes
// a fresh snapshot per statement, after the lock is granted). NOTIFY tells
// every coordinator's feed to tail; a dedicated LISTEN connection reconnects
// with backoff and, once back, signals a commit so nothing missed is lost.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { checkSchemaVersion, Mutex, type Migration, type SqlBackend, type SqlValue, type Tx } from './sql.js';

const CHANNEL = 'sixpn_commit';
const MIGRATION_LOCK = 4280;

/** `?` placeholders → `$1…$n` (our SQL never has `?` inside literals). */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/**
 * The portable schema → PostgreSQL: TEXT compares bytewise (COLLATE "C") like
 * SQLite's BINARY, so ORDER BY gives the same order on both backends whatever
 * the database's locale.
 */
export function pgDialect(statement: string): string {
  return statement.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}

/** The URL with its password masked, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    const q = u.searchParams;
    if (q.has('password')) q.set('password', '***');
    return u.toString().replace('%2A%2A%2A', '***');
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** Errors worth retrying at start: the server is down, starting, or not reachable yet. */
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
]);

function errCode(err: unknown): string | undefined {
  const e = err as { code?: string; errors?: unknown[] };
  return e.code ?? (Array.isArray(e.errors) ? errCode(e.errors[0]) : undefined);
}

function errText(err: unknown): string {
  const e = err as Error & { errors?: unknown[] };
  // net's happy-eyeballs failures are AggregateErrors with an empty message.
  if (!e.message && Array.isArray(e.errors) && e.errors.length) return errText(e.errors[0]);
  return e.message || String(err);
}

export function isTransientConnectError(err: unknown): boolean {
  const code = errCode(err);
  if (code && TRANSIENT.has(code)) return true;
  return /timeout|terminated unexpectedly|Connection terminated/i.test(errText(err));
}

export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

export interface PostgresOptions {
  /** connection attempts at start before giving up (default 6: about 8 s with the backoff) */
  attempts?: number;
  /** first retry delay, doubled each time (default 250 ms) */
  retryDelayMs?: number;
  /** per-connection connect timeout (default 5 s) */
  connectTimeoutMs?: number;
  poolSize?: number;
  logger?: Logger;
}

class PgTx implements Tx {
  constructor(private readonly client: pg.PoolClient) {}
  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.client.query(numbered(sql), params)).rows[0] as T | undefined;
  }
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return (await this.client.query(numbered(sql), params)).rows as T[];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: (await this.client.query(numbered(sql), params)).rowCount ?? 0 };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PostgresBackend implements SqlBackend {
  readonly kind = 'postgres' as const;
  private readonly events = new EventEmitter();
  private listener: pg.Client | null = null;
  private closed = false;
  private relisten: NodeJS.Timeout | null = null;
  // One local writer at a time: concurrent local writers would only hold pool
  // connections while queueing on the revision row lock.
  private readonly wlock = new Mutex();
  private readonly log: Logger;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly opts: PostgresOptions,
  ) {
    this.events.setMaxListeners(0);
    this.log = opts.logger ?? silentLogger;
    // An idle pooled connection that dies must not crash the process; the pool replaces it.
    pool.on('error', (err) => this.log.warn({ err: errText(err) }, 'postgres: idle connection lost'));
  }

  /** Connect, retrying transient failures with backoff; then LISTEN for other coordinators' commits. */
  static async connect(url: string, opts: PostgresOptions = {}): Promise<PostgresBackend> {
    const attempts = Math.max(1, opts.attempts ?? 6);
    const log = opts.logger ?? silentLogger;
    const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 8, connectionTimeoutMillis: connectTimeoutMs });
    pool.on('error', () => undefined); // replaced by the instance's handler below
    let delay = opts.retryDelayMs ?? 250;
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await pool.connect();
        client.release();
        break;
      } catch (err) {
        const where = redactUrl(url);
        if (!isTransientConnectError(err) || attempt >= attempts) {
          await pool.end().catch(() => undefined);
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          throw new DatabaseUnreachableError(`cannot connect to PostgreSQL at ${where}${tries}: ${errText(err)}`);
        }
        log.warn({ db: where, attempt, of: attempts, retryInMs: delay, err: errText(err) }, 'postgres: not reachable yet, retrying');
        await sleep(delay);
        delay *= 2;
      }
    }
    const b = new PostgresBackend(pool, url, { ...opts, connectTimeoutMs });
    try {
      await b.listen();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new DatabaseUnreachableError(`cannot LISTEN on PostgreSQL at ${redactUrl(url)}: ${errText(err)}`);
    }
    return b;
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.opts.connectTimeoutMs, keepAlive: true });
    const lost = (why: string): void => {
      if (this.listener !== c) return;
      this.listener = null;
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      if (this.closed) return;
      this.log.warn({ why }, 'postgres: LISTEN connection lost, reconnecting');
      this.scheduleRelisten(250);
    };
    c.on('error', (err) => lost(errText(err)));
    c.on('end', () => lost('connection ended'));
    await c.connect();
    c.on('notification', () => this.events.emit('commit'));
    await c.query(`LISTEN ${CHANNEL}`);
    this.listener = c;
  }

  private scheduleRelisten(delayMs: number): void {
    if (this.closed || this.relisten) return;
    this.relisten = setTimeout(() => {
      this.relisten = null;
      this.listen().then(
        () => {
          this.log.info('postgres: LISTEN connection back');
          // Commits made while we were deaf were never notified: make the feed tail now.
          this.events.emit('commit');
        },
        (err: unknown) => {
          this.log.warn({ err: errText(err) }, 'postgres: LISTEN reconnect failed');
          this.scheduleRelisten(Math.min(delayMs * 2, 5000));
        },
      );
    }, delayMs);
  }

  /** One transaction on a pooled client: `begin`, fn, then `beforeCommit` and COMMIT; ROLLBACK on any error. */
  private async transaction<T>(begin: string, fn: (tx: Tx) => Promise<T>, beforeCommit: string[] = []): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      const result = await fn(new PgTx(client));
      for (const q of beforeCommit) await client.query(q);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.wlock.lock(async () => {
      const result = await this.transaction(
        'BEGIN',
        async (tx) => {
          // The global write lock (see the header comment).
          await tx.get('SELECT rev FROM revision WHERE id = 1 FOR UPDATE');
          return fn(tx);
        },
        [`NOTIFY ${CHANNEL}`],
      ); // NOTIFY is delivered at COMMIT, to every coordinator (this one included)
      this.events.emit('commit');
      return result;
    });
  }

  /** No revision row lock, no NOTIFY: concurrent with the serialized writes (row locks only). */
  writeAside<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN', fn);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  /** Every read already holds a pooled connection of its own for its REPEATABLE READ transaction. */
  readAlone<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.read(fn);
  }

  async migrate(migrations: readonly Migration[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      // Two coordinators starting together must not migrate twice.
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
      let version = Number(r.rows[0]?.v ?? 0);
      checkSchemaVersion(`at ${redactUrl(this.url)}`, version, migrations);
      for (const m of migrations) {
        if (m.version <= version) continue;
        try {
          await client.query('BEGIN');
          for (const s of m.statements) await client.query(pgDialect(s));
          await client.query('INSERT INTO schema_version (version) VALUES ($1)', [m.version]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`schema migration ${m.version} failed: ${errText(err)}`);
        }
        version = m.version;
      }
      return version;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  onCommit(listener: () => void): () => void {
    this.events.on('commit', listener);
    return () => this.events.off('commit', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.relisten) clearTimeout(this.relisten);
    await this.wlock.lock(async () => undefined); // in-flight writes finish first
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
    await this.pool.end();
  }
}
