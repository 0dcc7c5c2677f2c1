// Log lines carry each key once (pino appends child bindings as they come).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { partLogger } from '../../src/log.js';

/** Top-level keys of a JSON object text, in order, duplicates kept (JSON.parse would hide them). */
function topKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(line.slice(i + 1, j));
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return keys;
}

function capture(name: string): { root: pino.Logger; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { root: pino({ name }, stream), lines: () => text.split('\n').filter(Boolean) };
}

describe('log', () => {
  it('partLogger: a part under a component is bound as `part`, never a second `component`', () => {
    const up = capture('up');
    const agent = up.root.child({ component: 'agent' }); // as `sixpn up` starts its agent
    partLogger(agent, 'machines').child({ machine: 'm1' }).info({ childPid: 42 }, 'command started');
    const alone = capture('agent'); // `sixpn agent`: the parts are components
    partLogger(alone.root, 'machines').info('machine attached');
    const [a] = up.lines();
    const [b] = alone.lines();
    for (const line of [a!, b!]) {
      const keys = topKeys(line);
      assert.deepEqual(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        [],
        line,
      );
    }
    assert.deepEqual([JSON.parse(a!).component, JSON.parse(a!).part], ['agent', 'machines']);
    assert.equal(JSON.parse(b!).component, 'machines');
    assert.ok(!('part' in JSON.parse(b!)));
  });

  it('topKeys sees a duplicate that JSON.parse hides', () => {
    assert.deepEqual(topKeys('{"a":1,"b":{"a":2},"c":"x\\":","a":3}'), ['a', 'b', 'c', 'a']);
  });
});
