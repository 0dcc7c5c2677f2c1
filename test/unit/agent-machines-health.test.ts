// The attachment health round (MachineManager.checkHealth) over a fake
// driver: one host survey per round however many machines, each check gets
// it, and a broken attachment is repaired.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { attachmentOf } from '../../src/agent/desired.js';
import { MachineManager } from '../../src/agent/machines.js';
import type { StatusReporter } from '../../src/agent/reporter.js';
import { StateDir } from '../../src/agent/statedir.js';
import type { Attachment, AttachmentDriver, HealthProblem, HostSurvey } from '../../src/agent/types.js';
import { machineAddress, machineFieldOf } from '../../src/addr/plan.js';
import { silentLogger } from '../../src/log.js';
import type { Machine } from '../../src/model/types.js';
import { tempDir } from '../../testkit/tmp.js';

const attachment = (n: number): Attachment => {
  const id = `${(0x20000000 + n).toString(16)}abcdef`;
  const m = {
    id,
    app: 'web',
    org: 'acme',
    region: 'ams',
    network_id: 5,
    host_id: 1,
    address: machineAddress(5, 1, machineFieldOf(id)),
    command: null,
    updated_at: 't',
  };
  return attachmentOf(m as Machine, { mtu: 1280, prefix: 0xfdaa });
};

class FakeDriver implements AttachmentDriver {
  readonly name = 'fake';
  surveys = 0;
  attaches: string[] = [];
  readonly seen: (HostSurvey | undefined)[] = [];
  broken = new Set<string>();
  survey?: () => Promise<HostSurvey>;

  constructor(withSurvey: boolean) {
    if (withSurvey)
      this.survey = async () => {
        this.surveys++;
        return { links: new Map(), addresses: new Map() };
      };
  }
  async attach(a: Attachment): Promise<void> {
    this.attaches.push(a.machineId);
    this.broken.delete(a.machineId);
  }
  async detach(): Promise<void> {}
  async check(a: Attachment, survey?: HostSurvey): Promise<HealthProblem> {
    this.seen.push(survey);
    return this.broken.has(a.machineId) ? 'veth gone' : null;
  }
}

describe('agent: attachment health rounds', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.remove());

  const manager = (driver: FakeDriver): MachineManager =>
    new MachineManager({
      driver,
      state: new StateDir(join(t.path, 's')),
      reporter: { forget: () => undefined, report: () => undefined } as unknown as StatusReporter,
      log: silentLogger,
    });

  it('one host survey per round for every machine; a broken attachment is repaired', async () => {
    const d = new FakeDriver(true);
    const m = manager(d);
    const all = Array.from({ length: 20 }, (_, i) => attachment(i));
    await m.reconcile(all);
    assert.equal(d.attaches.length, 20);
    d.broken.add(all[3]!.machineId);
    await m.checkHealth();
    assert.equal(d.surveys, 1, 'one survey, not one dump per machine');
    assert.equal(d.seen.length, 20);
    assert.ok(
      d.seen.every((s) => s !== undefined && s === d.seen[0]),
      'every check got the round survey',
    );
    assert.deepEqual(d.attaches.slice(20), [all[3]!.machineId], 'the broken one was attached again');
    await m.checkHealth();
    assert.equal(d.surveys, 2);
  });

  it('no machines: no survey; a driver without one checks each machine alone', async () => {
    const d = new FakeDriver(true);
    await manager(d).checkHealth();
    assert.equal(d.surveys, 0);
    const plain = new FakeDriver(false);
    const m = manager(plain);
    await m.reconcile([attachment(1), attachment(2)]);
    await m.checkHealth();
    assert.deepEqual(plain.seen, [undefined, undefined]);
  });

  it('a failed survey falls back to checks that read for themselves', async () => {
    const d = new FakeDriver(true);
    d.survey = async () => {
      throw new Error('netlink: ENOBUFS');
    };
    const m = manager(d);
    await m.reconcile([attachment(1)]);
    await m.checkHealth();
    assert.deepEqual(d.seen, [undefined]);
  });
});
