// State files are replaced whole: temp file, fsync, rename.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/atomic-file.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sixpn-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the whole text with the mode asked, and leaves no temp file', () => {
    const f = join(dir, 'identity.json');
    writeFileAtomic(f, '{"a":1}\n');
    assert.equal(readFileSync(f, 'utf8'), '{"a":1}\n');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    writeFileAtomic(f, 'second', 0o644);
    assert.equal(readFileSync(f, 'utf8'), 'second');
    assert.equal(statSync(f).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir), ['identity.json']);
  });

  it('a stale temp file from a crash is replaced, with the right mode', () => {
    writeFileSync(join(dir, '.desired-state.json.tmp'), 'half a fi', { mode: 0o666 });
    writeFileAtomic(join(dir, 'desired-state.json'), '{}');
    assert.deepEqual(readdirSync(dir), ['desired-state.json']);
    assert.equal(statSync(join(dir, 'desired-state.json')).mode & 0o777, 0o600);
  });

  it('a failed write keeps the old file', () => {
    const f = join(dir, 'x.json');
    writeFileAtomic(f, 'old');
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'x.json'), 'new'));
    assert.equal(readFileSync(f, 'utf8'), 'old');
  });
});
