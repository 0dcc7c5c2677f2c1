// NDJSON lines out of the feed's byte chunks (src/feed/client.ts LineSplitter):
// lines split across chunks, a character split across chunks, blank lines,
// several lines in one chunk, and the one-line-per-chunk fast path.
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/feed/client.js';

const parse = (lines: string[]): unknown[] => lines.map((l) => JSON.parse(l) as unknown);

describe('feed: lines out of chunks', () => {
  const cases: { name: string; chunks: (string | Buffer)[]; want: unknown[][] }[] = [
    { name: 'one line per chunk', chunks: ['{"a":1}\n', '{"a":2}\n'], want: [[{ a: 1 }], [{ a: 2 }]] },
    { name: 'several lines in one chunk', chunks: ['{"a":1}\n{"a":2}\n{"a":3}\n'], want: [[{ a: 1 }, { a: 2 }, { a: 3 }]] },
    { name: 'a line split across three chunks', chunks: ['{"a"', ':12', '3}\n'], want: [[], [], [{ a: 123 }]] },
    { name: 'the end of one line and a whole one', chunks: ['{"a":1', '}\n{"a":2}\n'], want: [[], [{ a: 1 }, { a: 2 }]] },
    { name: 'keep-alive and blank lines are skipped', chunks: ['\n', ' \n', '{"a":1}\n\n'], want: [[], [], [{ a: 1 }]] },
    {
      name: 'a character split across chunks',
      chunks: [Buffer.from('{"a":"é'.normalize()).subarray(0, 7), Buffer.concat([Buffer.from('{"a":"é"}\n').subarray(7)])],
      want: [[], [{ a: 'é' }]],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const s = new LineSplitter();
      assert.deepEqual(
        c.chunks.map((ch) => parse(s.push(typeof ch === 'string' ? Buffer.from(ch) : ch))),
        c.want,
      );
    });
});
