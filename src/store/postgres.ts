// PostgreSQL backend for several coordinators on one database. Writes are
// serialized by the row lock on `revision` (every write bumps it), so commit
// order is revision order; NOTIFY tells every coordinator's feed to tail.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { Mutex, type Migration, type SqlBackend, type SqlValue, type Tx } from './sql.js';

const CHANNEL = 'sixpn_commit';

/** `?` placeholders → `$1…$n` (our SQL never has `?` inside literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
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

export class PostgresBackend implements SqlBackend {
  readonly kind = 'postgres' as const;
  private readonly events = new EventEmitter();
  private listener: pg.Client | null = null;
  // One local writer at a time: concurrent writers would only queue on the revision row lock.
  private readonly wlock = new Mutex();

  private constructor(private readonly pool: pg.Pool, private readonly url: string) {
    this.events.setMaxListeners(0);
  }

  static async connect(url: string): Promise<PostgresBackend> {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    const client = await pool.connect(); // fail fast on a bad URL or an unreachable server
    client.release();
    const b = new PostgresBackend(pool, url);
    await b.listen();
    return b;
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    c.on('notification', () => this.events.emit('commit'));
    c.on('error', () => { /* the pool reconnects on next use; commits still notify locally */ });
    await c.query(`LISTEN ${CHANNEL}`);
    this.listener = c;
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.wlock.lock(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(new PgTx(client));
        await client.query(`NOTIFY ${CHANNEL}`);
        await client.query('COMMIT');
        this.events.emit('commit');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    });
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await fn(new PgTx(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async migrate(migrations: readonly Migration[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      // An advisory lock keeps two coordinators starting together from migrating twice.
      await client.query('SELECT pg_advisory_lock(4280)');
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const r = await client.query('SELECT MAX(version) AS v FROM schema_version');
      let version = Number(r.rows[0]?.v ?? 0);
      for (const m of migrations) {
        if (m.version <= version) continue;
        await client.query('BEGIN');
        for (const s of m.statements) await client.query(s.replace(/\bREAL\b/g, 'DOUBLE PRECISION'));
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [m.version]);
        await client.query('COMMIT');
        version = m.version;
      }
      return version;
    } finally {
      await client.query('SELECT pg_advisory_unlock(4280)').catch(() => undefined);
      client.release();
    }
  }

  onCommit(listener: () => void): () => void {
    this.events.on('commit', listener);
    return () => this.events.off('commit', listener);
  }

  async close(): Promise<void> {
    await this.wlock.lock(async () => undefined);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
