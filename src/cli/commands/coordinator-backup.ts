// `sixpn coordinator backup FILE --data DIR`: an online copy of the
// coordinator's SQLite database (SQLite's backup API through better-sqlite3),
// consistent at one revision, taken while the coordinator keeps serving.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { bool, json, str } from '../ctx.js';
import { CliError, UsageError } from '../errors.js';
import { printJson } from '../output.js';
import type { Context } from '../spec.js';

export interface BackupResult {
  file: string;
  bytes: number;
  rev: number;
  schema: number;
}

/** Copy <dataDir>/sixpn.db to `file` (written beside it, then renamed: never a half file). */
export async function backupSqlite(dataDir: string, file: string, force = false): Promise<BackupResult> {
  const src = join(dataDir, 'sixpn.db');
  if (!existsSync(src)) throw new CliError(`no coordinator database at ${src} (is --data the coordinator's data dir?)`);
  const dest = resolve(file);
  if (resolve(src) === dest) throw new UsageError('FILE must not be the live database itself');
  if (existsSync(dest) && !force) throw new CliError(`${dest} exists; use --force to replace it`);
  const tmp = `${dest}.partial`;
  rmSync(tmp, { force: true });
  const db = new Database(src, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(`backup of ${src} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  const copy = new Database(tmp, { readonly: true });
  let rev: number;
  let schema: number;
  try {
    const ok = copy.pragma('quick_check', { simple: true });
    if (ok !== 'ok') throw new CliError(`the backup failed its integrity check: ${String(ok)}`);
    rev = Number(copy.prepare('SELECT rev FROM revision WHERE id = 1').pluck().get());
    schema = copy.pragma('user_version', { simple: true }) as number;
  } finally {
    copy.close();
  }
  renameSync(tmp, dest);
  return { file: dest, bytes: statSync(dest).size, rev, schema };
}

/** `sixpn coordinator backup FILE --data DIR [--force]` */
export async function coordinatorBackupCommand(ctx: Context): Promise<number> {
  const file = ctx.args[1];
  if (!file) throw new UsageError('backup needs FILE', { showUsage: true });
  if (str(ctx.flags, 'db') || (!str(ctx.flags, 'data') && process.env.SIXPN_DB_URL)) {
    throw new UsageError('backup copies the embedded SQLite database; back up PostgreSQL with pg_dump');
  }
  const data = str(ctx.flags, 'data');
  if (!data) throw new UsageError("backup needs --data DIR (the coordinator's data dir)", { showUsage: true });
  const r = await backupSqlite(data, file, bool(ctx.flags, 'force'));
  if (json(ctx)) printJson(r);
  else process.stdout.write(`backup written: ${r.file} (${r.bytes} bytes, revision ${r.rev}, schema ${r.schema})\n`);
  return 0;
}
