// Debian's PostgreSQL 15 inside a machine's sandbox (an unprivileged uid, a
// read-only root, the work dir its only writable place): the data directory
// and the unix socket live in the work dir, the server listens on the
// machine's mesh address only.
//
// initdb, postgres and libpq look the uid up in passwd, and the sandbox uid
// has no entry (the host's /etc/passwd is read-only and shared by every
// machine). Debian's libnss-wrapper answers those lookups from files in the
// work dir (LD_PRELOAD, for the PostgreSQL programs only): the sandbox stays
// as it is.
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Address6 } from 'ip-address';
import pg from 'pg';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** The database superuser, and the passwd name of the sandbox uid (nss_wrapper). */
export const PG_USER = 'postgres';
/** Where the clients' writes go (created on the first primary, copied by pg_basebackup). */
export const ACKS_TABLE = 'CREATE TABLE acks (client text NOT NULL, seq integer NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (client, seq))';

/** libnss_wrapper.so in Debian's multiarch dir, or null. */
export function nssWrapperLib(): string | null {
  const dirs = [
    '/usr/lib',
    ...readdirSync('/usr/lib')
      .filter((d) => d.endsWith('-linux-gnu'))
      .map((d) => `/usr/lib/${d}`),
  ];
  return dirs.map((d) => join(d, 'libnss_wrapper.so')).find((f) => existsSync(f)) ?? null;
}

export interface PgServerOptions {
  /** the machine's work dir (its only writable place) */
  work: string;
  /** the machine's mesh address: the only address the server listens on */
  address: string;
  port: number;
  /** the machine id, the replica's application_name */
  id: string;
}

export class PgServer {
  readonly data: string;
  readonly env: NodeJS.ProcessEnv;
  private proc: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private stopping = false;
  /** called when the server ends without being asked to */
  onCrash: (code: number | null) => void = () => undefined;

  constructor(readonly o: PgServerOptions) {
    this.data = join(o.work, 'data');
    const lib = nssWrapperLib();
    if (!lib) throw new Error("libnss_wrapper.so not found: install Debian's libnss-wrapper (the sandbox uid has no passwd entry)");
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    writeFileSync(join(o.work, 'passwd'), `${PG_USER}:x:${uid}:${gid}:PostgreSQL:${o.work}:/usr/sbin/nologin\n`);
    writeFileSync(join(o.work, 'group'), `${PG_USER}:x:${gid}:\n`);
    this.env = {
      PATH: process.env.PATH,
      HOME: o.work,
      LANG: 'C.UTF-8',
      LD_PRELOAD: lib,
      NSS_WRAPPER_PASSWD: join(o.work, 'passwd'),
      NSS_WRAPPER_GROUP: join(o.work, 'group'),
    };
  }

  get initialized(): boolean {
    return existsSync(join(this.data, 'PG_VERSION'));
  }

  /** The mesh network (/48): who may connect, replication included. */
  private network(): string {
    return `${new Address6(`${this.o.address}/48`).startAddress().correctForm()}/48`;
  }

  /** A new cluster for the first primary, with the clients' table. */
  async initdb(): Promise<void> {
    await execa(join(PG_BIN, 'initdb'), ['-D', this.data, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], {
      env: this.env,
      extendEnv: false,
    });
    // Trust inside the app's private network only (nftables keeps other orgs out); nothing from elsewhere.
    const net = this.network();
    writeFileSync(
      join(this.data, 'pg_hba.conf'),
      ['local all all trust', 'local replication all trust', `host all all ${net} trust`, `host replication all ${net} trust`, ''].join('\n'),
    );
    await this.start('primary');
    // No standby yet: this one commit may not wait for one.
    await this.sql(`SET synchronous_commit TO local; ${ACKS_TABLE}`);
  }

  /** A copy of the primary's data dir, set up to stream from `primaryHost` (standby.signal + primary_conninfo). */
  async basebackup(primaryHost: string): Promise<void> {
    const conn = `host=${primaryHost} port=${this.o.port} user=${PG_USER} application_name=${this.o.id} connect_timeout=3`;
    await execa(join(PG_BIN, 'pg_basebackup'), ['-d', conn, '-D', this.data, '-R', '-X', 'stream', '-c', 'fast'], {
      env: this.env,
      extendEnv: false,
      timeout: 120_000,
    });
  }

  /**
   * Start the server. A `primary` acknowledges a commit only once a
   * synchronous standby has applied it; a `promoted` replica has no standby
   * to wait for. A `standby` takes no TCP clients: libpq's
   * target_session_attrs=read-write gives up on a name after the first of its
   * addresses that answers read-only, so with `host=pg.internal` a standby
   * must refuse the connection (libpq then tries the next address) rather
   * than answer it. Its readers use the unix socket.
   */
  async start(mode: 'primary' | 'standby' | 'promoted'): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: mode === 'standby' ? '' : this.o.address,
      port: String(this.o.port),
      unix_socket_directories: this.o.work,
      // every acknowledged commit is applied on the standby (visible to its readers) first
      synchronous_commit: 'remote_apply',
      synchronous_standby_names: mode === 'primary' ? '*' : '',
      shared_buffers: '16MB',
      max_connections: '40',
      wal_receiver_status_interval: '1s',
      wal_retrieve_retry_interval: '500ms',
      log_line_prefix: '%m [%p] ',
    };
    const args = ['-D', this.data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const p = spawn(join(PG_BIN, 'postgres'), args, { env: this.env, stdio: ['ignore', 'inherit', 'inherit'] });
    this.proc = p;
    this.stopping = false;
    this.exited = new Promise((resolve) =>
      p.once('exit', (code) => {
        if (!this.stopping) this.onCrash(code);
        resolve(code);
      }),
    );
    for (let i = 0; ; i++) {
      if (p.exitCode !== null) throw new Error(`postgres exited with ${p.exitCode} while starting`);
      try {
        await this.sql('SELECT 1');
        return;
      } catch (err) {
        if (i > 600) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** One statement over the unix socket in the work dir. */
  async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string): Promise<R[]> {
    const c = new pg.Client({ host: this.o.work, port: this.o.port, user: PG_USER, database: 'postgres', connectionTimeoutMillis: 2000 });
    await c.connect();
    try {
      return (await c.query<R>(text)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** Stop: `fast` disconnects clients and lets the WAL sender finish; `immediate` is for a fenced primary. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.stopping = true;
    p.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await this.exited;
  }
}
