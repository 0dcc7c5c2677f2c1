// LogTail forwards a machine command's output file into the agent's log.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LogTail } from '../../src/agent/proc.js';

describe('LogTail', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sixpn-tail-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function capture(): { log: pino.Logger; msgs: () => string[] } {
    const lines: string[] = [];
    const stream = new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(...c.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    return { log: pino(stream), msgs: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
  }

  it("from an offset taken before the command started: a fast command's first lines are kept", () => {
    const file = join(dir, 'm.log');
    writeFileSync(file, 'previous run\n');
    const from = statSync(file).size; // taken before the spawn
    appendFileSync(file, 'facts ip=fdaa::2\n'); // the command wrote before the tail was made
    const c = capture();
    const tail = new LogTail(file, c.log, from);
    tail.stop();
    assert.deepEqual(c.msgs(), ['facts ip=fdaa::2']);
    // From the end as of its creation, the same line would have been skipped.
    const late = capture();
    new LogTail(file, late.log, true).stop();
    assert.deepEqual(late.msgs(), []);
  });

  it('a partial last line is logged on stop', () => {
    const file = join(dir, 'm.log');
    const c = capture();
    const tail = new LogTail(file, c.log, false);
    writeFileSync(file, 'one\ntwo');
    tail.poll();
    assert.deepEqual(c.msgs(), ['one']);
    tail.stop();
    assert.deepEqual(c.msgs(), ['one', 'two']);
  });
});
