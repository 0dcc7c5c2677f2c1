// The lease hand-over bench (`npm run bench -- lease`) at a tiny size, so it
// cannot rot: it runs to the end and prints its one summary line. No figure
// is asserted (benchmarks are never timed assertions).
import assert from 'node:assert/strict';
import { runBench } from '../../testkit/bench.js';

const LINE = /^lease: trials=(\d+) p50_ms=(\d+\.\d) p99_ms=(\d+\.\d) max_ms=(\d+\.\d) poll_p50_ms=(\d+\.\d) poll_p99_ms=(\d+\.\d) poll_ms=(\d+)$/;

describe('lease bench (smoke)', function () {
  this.timeout(120_000);

  it('runs 3 hand-overs of each kind and ends with the lease line', async () => {
    const r = await runBench('lease', { LEASE_TRIALS: '3', LEASE_POLL_MS: '50' });
    assert.equal(r.code, 0, `exit ${r.code}\n${r.out}\n${r.err}`);
    const m = LINE.exec(r.last);
    assert.ok(m, `last line: ${r.last}`);
    assert.equal(r.out.split('\n').filter((l) => l.startsWith('lease:')).length, 1);
    assert.equal(m[1], '3');
    assert.equal(m[7], '50');
    assert.ok(Number(m[2]) <= Number(m[3]) && Number(m[3]) <= Number(m[4]), r.last);
  });

  it('refuses a bad setting with exit 2', async () => {
    const r = await runBench('lease', { LEASE_TRIALS: 'many' });
    assert.equal(r.code, 2);
    assert.match(r.err, /LEASE_TRIALS must be a non-negative number/);
  });
});
