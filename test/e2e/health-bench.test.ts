// The health bench (`npm run bench -- health`) at a tiny size, so it cannot
// rot: real coordinator and agents on namespaces, two trials, one summary
// line, and nothing of the lab left behind. No figure is asserted
// (benchmarks are never timed assertions).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { e2eUnavailable } from '../../testkit/mesh.js';
import { runBench } from '../../testkit/bench.js';

const LINE = /^health: hosts=(\d+) trials=(\d+) interval_s=1 p50_ms=(\d+) p99_ms=(\d+) max_ms=(\d+) back_p50_ms=(\d+)$/;

/** Python servers started by the bench's machines that are still running. */
function benchServers(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('http.server') && readFileSync(`/proc/${p}/environ`, 'utf8').includes('SIXPN_MACHINE_ID=');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('health bench (smoke; namespaces, wireguard-go)', function () {
  this.timeout(240_000);

  before(function () {
    const why = e2eUnavailable();
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
  });

  it('runs 2 trials on 2 hosts and ends with the health line', async () => {
    const before = new Set(benchServers());
    const r = await runBench('health', { HEALTH_TRIALS: '2', HEALTH_HOSTS: '2' });
    assert.equal(r.code, 0, `exit ${r.code}\n${r.out}\n${r.err}`);
    const m = LINE.exec(r.last);
    assert.ok(m, `last line: ${r.last}`);
    assert.equal(r.out.split('\n').filter((l) => l.startsWith('health:')).length, 1);
    assert.equal(m[1], '2');
    assert.equal(m[2], '2');
    assert.ok(Number(m[3]) <= Number(m[4]) && Number(m[4]) <= Number(m[5]), r.last);
    assert.deepEqual(
      benchServers().filter((p) => !before.has(p)),
      [],
      "a machine's server outlived the bench",
    );
  });

  it('refuses a bad setting with exit 2', async () => {
    const r = await runBench('health', { HEALTH_TRIALS: '-1' });
    assert.equal(r.code, 2);
    assert.match(r.err, /HEALTH_TRIALS must be a non-negative number/);
  });
});
