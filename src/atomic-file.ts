// Files that must survive a crash whole: written to a temp file beside the
// target, fsync'd, renamed over it, and the directory fsync'd, so after a
// power cut the name points at either the old or the new contents, never at
// an empty or half-written file.
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, text);
    fchmodSync(fd, mode); // an older temp file keeps its mode otherwise
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
