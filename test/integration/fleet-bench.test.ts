// The fleet bench (`npm run bench -- fleet`) at a tiny size, so it cannot rot:
// it runs to the end against a real coordinator and prints its one summary
// line in the format the issue fixes. No figure is asserted (benchmarks are
// never timed assertions).
import assert from 'node:assert/strict';
import { runBench, type BenchRun } from '../../testkit/bench.js';

const LINE =
  /^fleet: replicas=(\d+) rate=(\d+) changes=(\d+) p50_ms=(\d+(?:\.\d+)?) p99_ms=(\d+(?:\.\d+)?) max_ms=(\d+) coordinator_rss_mb=(\d+) replica_rss_mb=(\d+\.\d\d) snapshot_s=(\d+\.\d\d)$/;

const run = (env: Record<string, string>): Promise<BenchRun> => runBench('fleet', env);

describe('fleet bench (smoke)', function () {
  this.timeout(180_000);

  it('runs 5 replicas for 2 s and ends with the fleet line', async () => {
    const r = await run({ FLEET_REPLICAS: '5', FLEET_RATE: '20', FLEET_SECONDS: '2', FLEET_MACHINES: '30', FLEET_ORGS: '3' });
    assert.equal(r.code, 0, `exit ${r.code}\n${r.out}\n${r.err}`);
    const lines = r.out.trimEnd().split('\n');
    const last = lines[lines.length - 1]!;
    const m = LINE.exec(last);
    assert.ok(m, `last line: ${last}`);
    assert.equal(lines.filter((l) => l.startsWith('fleet:')).length, 1);
    assert.equal(m[1], '5');
    assert.equal(m[2], '20');
    // 40 requests, each meant as a change (creates, stop/start toggles, new metadata values);
    // two toggles of one machine racing on two connections may make one a no-op.
    assert.ok(Number(m[3]) >= 30 && Number(m[3]) <= 40, last);
    assert.ok(Number(m[4]) <= Number(m[5]) && Number(m[5]) <= Number(m[6]) + 1, last);
    assert.ok(Number(m[7]) > 0 && Number(m[8]) > 0, last);
  });

  it('refuses a bad setting with exit 2', async () => {
    const r = await run({ FLEET_REPLICAS: 'many' });
    assert.equal(r.code, 2);
    assert.match(r.err, /FLEET_REPLICAS must be a non-negative number/);
  });
});
