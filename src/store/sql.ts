// The smallest SQL surface the store needs, so one domain layer (store.ts)
// runs on SQLite and PostgreSQL alike. SQL is written with `?` placeholders;
// backends translate them.
import { VERSION } from '../version.js';

export type SqlValue = string | number | null;

/** Timestamps are stored as ISO-8601 text (sorts and compares the same on both backends). */
export function now(): string {
  return new Date().toISOString();
}

export interface Tx {
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** Run fn in one serialized read-write transaction; commit is durable before it resolves. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Run fn in a transaction outside the change feed (reports such as peer
   * status): it takes no global revision lock and wakes no feed. It must
   * write only tables no change record describes.
   */
  writeAside<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Run fn against one consistent read view. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Run fn against one consistent read view on a connection of its own, which
   * fn may hold while it awaits other things (a streamed snapshot paced by its
   * readers) without holding up `read`.
   */
  readAlone<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Apply schema migrations; returns the schema version. */
  migrate(migrations: readonly Migration[]): Promise<number>;
  /** Subscribe to "a write committed" notifications, including other coordinators' (PostgreSQL). */
  onCommit(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The database was migrated by a newer sixpn: refuse it rather than write to a schema we do not know. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
  constructor(
    readonly where: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the database ${where} has schema version ${found}, newer than this sixpn (${VERSION}) knows (${known}): ` +
        'run the newer sixpn that upgraded it, or restore a backup taken before the upgrade',
    );
  }
}

/** Throws SchemaTooNewError when `current` is past every migration we have. */
export function checkSchemaVersion(where: string, current: number, migrations: readonly Migration[]): void {
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (current > known) throw new SchemaTooNewError(where, current, known);
}

export interface Migration {
  version: number;
  /** statements, portable between SQLite and PostgreSQL */
  statements: string[];
}

/** Serializes async critical sections (one writer at a time). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
