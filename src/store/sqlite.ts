// SQLite backend: better-sqlite3 12, WAL, synchronous=FULL (an acknowledged
// write is on disk). One writer connection behind a mutex, one reader
// connection that sees only committed data (WAL snapshot isolation).
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkSchemaVersion, Mutex, type Migration, type SqlBackend, type SqlValue, type Tx } from './sql.js';

type Db = Database.Database;

interface PendingWrite {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  aside: boolean;
}

function open(path: string, readonly: boolean): Db {
  const db = new Database(path, { readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  }
  return db;
}

class SqliteTx implements Tx {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Db) {}
  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return Promise.resolve(this.stmt(sql).get(...params) as T | undefined);
  }
  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return Promise.resolve(this.stmt(sql).all(...params) as T[]);
  }
  run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    const r = this.stmt(sql).run(...params);
    return Promise.resolve({ changes: r.changes });
  }
}

export class SqliteBackend implements SqlBackend {
  readonly kind = 'sqlite' as const;
  private readonly writer: Db;
  private reader: Db | null = null;
  private readonly wtx: SqliteTx;
  private rtx: SqliteTx | null = null;
  private readonly wlock = new Mutex();
  private readonly rlock = new Mutex();
  private readonly events = new EventEmitter();
  private readonly pending: PendingWrite[] = [];
  private draining = false;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.writer = open(path, false);
    this.wtx = new SqliteTx(this.writer);
    this.events.setMaxListeners(0);
  }

  private readTx(): SqliteTx {
    if (!this.rtx) {
      this.reader = open(this.path, true);
      this.rtx = new SqliteTx(this.reader);
    }
    return this.rtx;
  }

  /**
   * Group commit: writes that queue up while a commit is in flight run in the
   * next transaction together, each in its own savepoint (a failing write
   * rolls back alone), then one COMMIT makes them all durable. Every caller is
   * answered only after that COMMIT.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(fn, false);
  }

  /** SQLite has one writer anyway: an aside write joins the group commit but wakes no feed. */
  writeAside<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(fn, true);
  }

  private enqueue<T>(fn: (tx: Tx) => Promise<T>, aside: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn: fn as (tx: Tx) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject, aside });
      // Start the batch on the next turn of the event loop, so every request
      // parsed in this turn joins it (one fsync for all of them).
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, 512);
        await this.wlock.lock(() => this.runBatch(batch));
        // Let the requests that arrived during the fsync join the next batch.
        if (this.pending.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: PendingWrite[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.writer.exec('BEGIN IMMEDIATE');
      for (const w of batch) {
        this.writer.exec('SAVEPOINT w');
        try {
          outcomes.push({ ok: true, value: await w.fn(this.wtx) });
          this.writer.exec('RELEASE w');
        } catch (error) {
          this.writer.exec('ROLLBACK TO w');
          this.writer.exec('RELEASE w');
          outcomes.push({ ok: false, error });
        }
      }
      this.writer.exec('COMMIT');
    } catch (err) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
    if (outcomes.some((o, i) => o.ok && !batch[i]!.aside)) this.events.emit('commit');
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.rlock.lock(async () => {
      const tx = this.readTx();
      this.reader!.exec('BEGIN');
      try {
        return await fn(tx);
      } finally {
        this.reader!.exec('COMMIT');
      }
    });
  }

  /** A read-only connection per call: WAL lets it keep its view while the writer commits. */
  async readAlone<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const db = open(this.path, true);
    try {
      db.exec('BEGIN');
      try {
        return await fn(new SqliteTx(db));
      } finally {
        db.exec('COMMIT');
      }
    } finally {
      db.close();
    }
  }

  async migrate(migrations: readonly Migration[]): Promise<number> {
    const current = this.writer.pragma('user_version', { simple: true }) as number;
    checkSchemaVersion(this.path, current, migrations);
    let version = current;
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.writer.transaction(() => {
        for (const s of m.statements) this.writer.exec(s);
        this.writer.pragma(`user_version = ${m.version}`);
      })();
      version = m.version;
    }
    return version;
  }

  onCommit(listener: () => void): () => void {
    this.events.on('commit', listener);
    return () => this.events.off('commit', listener);
  }

  async close(): Promise<void> {
    while (this.draining) await new Promise((r) => setTimeout(r, 5));
    await this.wlock.lock(async () => undefined);
    this.reader?.close();
    this.writer.close();
  }
}
