// The agent's reconciler without root: apply and the loop over fake ports
// (testkit/fake-host.ts), fed by a real Replica.
import assert from 'node:assert/strict';
import { apply, freshMemory, setupDevice, type DeviceWant } from '../../src/agent/apply.js';
import { computeDesired } from '../../src/agent/desired.js';
import { ReconcileLoop } from '../../src/agent/loop.js';
import { Planner } from '../../src/agent/plan.js';
import { Reconciler } from '../../src/agent/reconciler.js';
import { StatusBoard, type ConvergeStats } from '../../src/agent/status.js';
import type { ApplyReport } from '../../src/agent/apply.js';
import { Replica } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import type { Host, Machine, State } from '../../src/model/types.js';
import { FakeHost } from '../../testkit/fake-host.js';
import { until } from '../../testkit/until.js';
import { fixtureHost, fixtureKey, fixtureMachine, selfConfig } from '../../testkit/agent-self.js';

const key = fixtureKey;
const host = (id: number): Host => fixtureHost(id);
let seq = 0;
function machine(hostId: number, networkId = 5): Machine {
  ++seq;
  return fixtureMachine(`${(0x20000000 + seq).toString(16)}abcdef`, hostId, networkId, 'started', { updated_at: `t${seq}` });
}
const state = (o: Partial<State> = {}): State => ({
  regions: [],
  orgs: [],
  networks: [],
  apps: [],
  hosts: [host(1), host(2), host(3)],
  machines: [],
  peers: [],
  ...o,
});
const self = selfConfig();
const device: DeviceWant = { iface: 'sixpn0', privateKey: key('p'), listenPort: 51820, mtu: 1280 };

/** A reconciler over a fake host, with short timings; records every pass. */
function rig(o: { retryMs?: number; kickFollowUpMs?: number; resyncMs?: number } = {}) {
  const host = new FakeHost();
  const replica = new Replica();
  const status = new StatusBoard();
  const memory = freshMemory();
  const passes: { stats: ConvergeStats; report: ApplyReport }[] = [];
  status.onPass((stats, report) => passes.push({ stats, report }));
  const r = new Reconciler({
    replica,
    planner: new Planner(self),
    ports: host,
    device,
    memory,
    status,
    log: silentLogger,
    timing: { retryMs: o.retryMs ?? 20, maxRetryMs: 1000, resyncMs: o.resyncMs ?? 0, repairDelayMs: 5 },
    kickFollowUpMs: o.kickFollowUpMs ?? 30,
  });
  return { host, replica, status, memory, passes, r };
}

describe('agent reconciler (fake ports)', () => {
  let stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops) await s();
    stops = [];
  });
  const started = (x: ReturnType<typeof rig>): ReturnType<typeof rig> => {
    x.r.start();
    stops.push(() => x.r.stop());
    return x;
  };

  it('apply converges an empty host and reports what it did', async () => {
    const host = new FakeHost();
    const memory = freshMemory();
    await setupDevice(host, device, memory);
    const d = computeDesired(state({ machines: [machine(1), machine(2)] }), self);
    const report = await apply(d, host, { device, memory, force: false, log: silentLogger });
    assert.deepEqual(report.failed, []);
    assert.equal(report.nftWritten, true);
    assert.deepEqual(report.peers, { added: [key('B'), key('C')], removed: [], changed: [] });
    assert.deepEqual(
      host.peers().map((p) => p.publicKey),
      [key('B'), key('C')],
    );
    assert.equal(host.device!.privateKey, device.privateKey);
    assert.deepEqual(host.link, { index: 7, mtu: 1280, up: true });
    assert.deepEqual(host.routes, ['fdaa::/16']);
    assert.equal(host.addresses.length, 1);
    assert.equal(host.attachments.length, 1);
    // A second pass over the same state changes nothing and asks no device anything.
    const calls = host.calls.length;
    const again = await apply(d, host, { device, memory, force: false, log: silentLogger });
    assert.equal(again.nftWritten, false);
    assert.deepEqual(again.peers, { added: [], removed: [], changed: [] });
    assert.deepEqual(host.calls.slice(calls), []);
    // A forced pass reads everything back (and takes the new device's handshake keepalives off).
    const before = host.calls.length;
    const forced = await apply(d, host, { device, memory, force: true, log: silentLogger });
    assert.deepEqual(forced.failed, []);
    assert.deepEqual(host.calls.slice(before), [
      'wg.show',
      'wg.applyPeers add=0 update=2 remove=0',
      'rtnl.link',
      'rtnl.addresses',
      'rtnl.routes',
      'machines.reconcile 1',
    ]);
  });

  it('a new device: handshakes are kicked once its peers are set, then a forced pass diffs the keepalive back off', async () => {
    const x = rig({ kickFollowUpMs: 30 });
    await setupDevice(x.host, device, x.memory);
    assert.equal(x.memory.kickPending, true);
    started(x);
    x.replica.applySnapshot(1, state());
    await until(() => x.passes.length >= 1);
    const first = x.passes[0]!.report;
    assert.equal(first.kicked, 2);
    assert.deepEqual(first.peers.added, [key('B'), key('C')]);
    assert.deepEqual(
      x.host.calls.filter((c) => c.startsWith('wg.applyPeers')),
      ['wg.applyPeers add=2 update=0 remove=0', 'wg.applyPeers add=0 update=2 remove=0'],
    );
    assert.deepEqual(
      x.host.peers().map((p) => p.keepalive),
      [25, 25],
    );
    assert.equal(x.memory.kickPending, false);
    // The follow-up pass is forced (same peers, so only a forced pass reads the device).
    await until(() => x.passes.length >= 2);
    assert.deepEqual(x.passes[1]!.report.peers.changed, [key('B'), key('C')]);
    assert.equal(x.passes[1]!.report.kicked, 0);
    assert.deepEqual(
      x.host.peers().map((p) => p.keepalive),
      [0, 0],
    );
  });

  it('an adopted device is not kicked', async () => {
    const x = rig();
    await x.host.wg.ensure('sixpn0');
    await setupDevice(x.host, device, x.memory);
    assert.equal(x.memory.kickPending, false);
    started(x);
    x.replica.applySnapshot(1, state());
    await until(() => x.passes.length >= 1);
    assert.equal(x.passes[0]!.report.kicked, 0);
    assert.equal(x.host.count('wg.applyPeers'), 1);
  });

  it('a repair (link event) forces a pass that re-reads the device, then checks machine health', async () => {
    const x = started(rig());
    await setupDevice(x.host, device, x.memory);
    x.replica.applySnapshot(1, state());
    await until(() => x.passes.length >= 1);
    // A non-forced pass trusts that the peers did not change: no `wg show`.
    const shows = x.host.count('wg.show');
    await x.r.converge();
    assert.equal(x.host.count('wg.show'), shows);
    // The device is lost behind our back.
    x.host.device = null;
    x.r.repairSoon();
    x.r.repairSoon(); // link events come in bursts: one repair
    await until(() => x.host.healthChecks >= 1);
    const repair = x.passes.find((p) => p.report.deviceRecreated)?.report;
    assert.ok(repair, 'the repair pass made the device again');
    assert.deepEqual(repair.peers.added, [key('B'), key('C')]);
    assert.equal(repair.kicked, 2, 'a recreated device gets its handshakes kicked');
    assert.deepEqual(
      x.host.peers().map((p) => p.publicKey),
      [key('B'), key('C')],
    );
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(x.host.healthChecks, 1);
  });

  it('a failing step is reported, the other steps still run, and it is retried with backoff until it succeeds', async () => {
    const x = rig({ retryMs: 20 });
    await setupDevice(x.host, device, x.memory);
    x.host.failNext('rtnl.routes', 3, 'netlink: EBUSY');
    started(x);
    x.replica.applySnapshot(1, state({ machines: [machine(1)] }));
    await until(() => x.passes.length >= 4, 5000);
    const [p1, p2, p3, p4] = x.passes;
    assert.deepEqual(p1!.report.failed, [{ step: 'routes', error: 'netlink: EBUSY' }]);
    assert.deepEqual(p1!.stats.failed, ['routes']);
    assert.equal(p1!.report.nftWritten, true, 'nft ran before the failing step');
    assert.equal(x.host.attachments.length, 1, 'machines ran after the failing step');
    assert.deepEqual(p2!.stats.failed, ['routes']);
    assert.deepEqual(p3!.stats.failed, ['routes']);
    assert.deepEqual(p4!.stats.failed, []);
    assert.deepEqual(x.host.routes, ['fdaa::/16']);
    // Retries are forced passes (they re-read the device).
    assert.equal(x.host.count('wg.show'), 1 + 1 + 3);
    // No more passes once it succeeded.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(x.passes.length, 4);
  });

  it('the loop backs off while a pass keeps failing, and starts over after a success', async () => {
    const at: number[] = [];
    let fail = 4;
    const loop = new ReconcileLoop({
      log: silentLogger,
      retryMs: 20,
      maxRetryMs: 100,
      resyncMs: 0,
      pass: async () => {
        at.push(Date.now());
        return { failed: fail-- > 0 };
      },
    });
    stops.push(() => loop.stop());
    await loop.request();
    await until(() => at.length >= 5, 5000);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(at.length, 5, 'no retry after the success');
    // Waits of 20, 40, 80, 100 (capped) ms: each at least its delay (timers never fire early).
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    for (const [i, min] of [20, 40, 80, 100].entries()) assert.ok(gaps[i]! >= min - 2, `wait ${i}: ${gaps[i]} ms < ${min}`);
    // A new failure waits the first delay again, not the cap.
    fail = 1;
    await loop.request();
    await until(() => at.length >= 7, 5000);
    assert.ok(at[6]! - at[5]! >= 18);
    assert.ok(at[6]! - at[5]! < 100, `retry after a success waited ${at[6]! - at[5]!} ms`);
  });

  it('a burst of changes during a pass is coalesced into one more pass', async () => {
    const x = started(rig());
    await x.host.wg.ensure('sixpn0'); // adopted: no handshake kick (and its follow-up pass)
    await setupDevice(x.host, device, x.memory);
    let open!: () => void;
    x.host.gate = new Promise((r) => {
      open = r;
    });
    x.replica.applySnapshot(1, state());
    await until(() => x.host.count('machines.reconcile') === 1);
    // While pass 1 waits in the machines step, ten machines arrive one change at a time.
    const ms = Array.from({ length: 10 }, () => machine(1));
    ms.forEach((m, i) => x.replica.applyChange({ rev: 2 + i, at: '', ops: [{ entity: 'machine', op: 'upsert', data: m }] }));
    x.host.gate = null;
    open();
    await until(() => x.passes.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(x.passes.length, 2, 'one pass for the burst');
    assert.equal(x.passes[0]!.stats.rev, 1);
    assert.equal(x.passes[1]!.stats.rev, 11);
    assert.equal(x.host.attachments.length, 10);
    assert.equal(x.passes[1]!.stats.nftApplied, true);
  });

  it('stop waits for the pass in flight and runs no more', async () => {
    const x = started(rig());
    await x.host.wg.ensure('sixpn0');
    await setupDevice(x.host, device, x.memory);
    let open!: () => void;
    x.host.gate = new Promise((r) => {
      open = r;
    });
    x.replica.applySnapshot(1, state());
    await until(() => x.host.count('machines.reconcile') === 1);
    x.replica.applyChange({ rev: 2, at: '', ops: [{ entity: 'machine', op: 'upsert', data: machine(1) }] });
    const stopping = x.r.stop();
    x.host.gate = null;
    open();
    await stopping;
    assert.equal(x.passes.length, 1);
  });

  it('the periodic resync re-writes an nft table that vanished behind our back', async () => {
    const x = rig({ resyncMs: 30 });
    await setupDevice(x.host, device, x.memory);
    started(x);
    x.replica.applySnapshot(1, state());
    await until(() => x.passes.length >= 1);
    assert.equal(x.host.count('nft.write'), 1);
    await until(() => x.passes.length >= 3);
    assert.equal(x.host.count('nft.write'), 1, 'a table still there is trusted');
    x.host.nftText = null; // `nft flush ruleset`
    await until(() => x.host.nftText !== null);
    assert.equal(x.host.count('nft.write'), 2);
    assert.ok(x.passes.some((p) => p.stats.nftApplied && p.stats.rev === 1 && p !== x.passes[0]));
  });
});
