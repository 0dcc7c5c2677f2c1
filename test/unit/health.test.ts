// The pure parts of health checks, service ports, leases and the membership
// stream: spec parsing (one rule for API, CLI and machine API), which machines
// a host checks, when a flip is reported, and the stream's diff.
import assert from 'node:assert/strict';
import { checkedMachines, HealthChecks, roundTimeoutMs, toReport, type Probe } from '../../src/agent/checks.js';
import { diffViews, memberView } from '../../src/machineapi/watch.js';
import { leaseName, leaseTtl } from '../../src/machineapi/leases.js';
import type { Machine } from '../../src/model/types.js';
import { checkText, isLeaseName, parseAll, parseCheck, parsePort, portText } from '../../src/validate.js';
import { silentLogger } from '../../src/log.js';
import { machine, HOST_IAD, HOST_AMS, NET_ACME } from '../../testkit/dns-fixture.js';
import { until } from '../../testkit/until.js';

describe('check and port specs', () => {
  const good: [string, string][] = [
    ['tcp:80', 'tcp:80'],
    ['http:8080/healthz', 'http:8080/healthz'],
    ['http:1', 'http:1/'],
    ['http:65535/a?b=c&d', 'http:65535/a?b=c&d'],
  ];
  for (const [spec, text] of good)
    it(`takes ${spec}`, () => {
      const c = parseCheck(spec);
      assert.ok(typeof c !== 'string', String(c));
      assert.equal(checkText(c), text);
    });
  const bad: [string, RegExp][] = [
    ['udp:53', /unknown check kind "udp"/],
    ['grpc:80', /unknown check kind/],
    ['tcp:0', /1-65535/],
    ['tcp:65536', /1-65535/],
    ['tcp', /tcp:PORT or http:PORT\/PATH/],
    ['http:80/a b', /path/],
    ['http:80/\t', /path/],
    ['http:80/x\u007f', /path/],
    ['tcp:80/x', /no path/],
    ['', /must be/],
    ['TCP:80', /must be/],
  ];
  for (const [spec, why] of bad)
    it(`refuses ${JSON.stringify(spec)}`, () => {
      const c = parseCheck(spec);
      assert.equal(typeof c, 'string');
      assert.match(c as string, why);
    });

  it('parses ports with tcp as the default protocol', () => {
    assert.deepEqual(parsePort('http:8080'), { name: 'http', port: 8080, protocol: 'tcp' });
    assert.deepEqual(parsePort('dns:53/udp'), { name: 'dns', port: 53, protocol: 'udp' });
    assert.equal(portText(parsePort('pg:5432/tcp') as never), 'pg:5432/tcp');
    for (const [s, why] of [
      ['http:0', /1-65535/],
      ['http:99999', /1-65535/],
      ['Http:80', /DNS label/],
      ['a-very-long-service-name:80', /DNS label/],
      ['http:80/sctp', /tcp or udp/],
      ['http', /NAME:PORT/],
      [':80', /DNS label/],
    ] as const) {
      assert.match(parsePort(s) as string, why, s);
    }
  });

  it('bounds the counts', () => {
    assert.match(parseAll(Array(9).fill('tcp:1'), parseCheck, 'check', 8) as string, /at most 8 checks, got 9/);
    assert.equal((parseAll(Array(8).fill('tcp:1'), parseCheck, 'check', 8) as unknown[]).length, 8);
    assert.match(parseAll(Array(17).fill('a:1'), parsePort, 'port', 16) as string, /at most 16 ports/);
  });

  it('takes lease names that are DNS labels and TTLs of 1-300 s', () => {
    for (const n of ['primary', 'a', 'leader-1']) {
      assert.ok(isLeaseName(n));
      assert.equal(leaseName(n), n);
    }
    for (const n of ['Primary', '-a', 'a_b', 'a.b', '', 'x'.repeat(64)]) assert.throws(() => leaseName(n), /lease name/);
    for (const t of [1, 30, 300]) assert.equal(leaseTtl({ ttl: t }), t);
    for (const b of [{ ttl: 0 }, { ttl: 301 }, { ttl: 2.5 }, { ttl: '5' }, {}, null, 'x']) assert.throws(() => leaseTtl(b), /1\.\.300/);
  });
});

describe('agent health checks', () => {
  const checks = [{ type: 'tcp' as const, port: 80 }];
  it('checks the started machines with checks on this host only', () => {
    const ms: Machine[] = [
      machine('aa000001000001', 'web', NET_ACME, HOST_IAD, 'started', { checks }),
      machine('aa000002000002', 'web', NET_ACME, HOST_IAD, 'stopped', { checks }),
      machine('aa000003000003', 'web', NET_ACME, HOST_IAD, 'started'),
      machine('aa000004000004', 'web', NET_ACME, HOST_AMS, 'started', { checks }),
    ];
    assert.deepEqual([...checkedMachines(ms, HOST_IAD).keys()], ['aa000001000001']);
  });

  it('reports a flip once, not a steady outcome', () => {
    assert.equal(toReport('critical', 'passing', null), 'passing');
    assert.equal(toReport('passing', 'passing', null), null);
    assert.equal(toReport('critical', 'passing', 'passing'), null, 'already on its way');
    assert.equal(toReport('passing', 'critical', 'passing'), 'critical');
  });

  it('keeps a round within half the interval and under 800 ms', () => {
    assert.equal(roundTimeoutMs(1), 500);
    assert.equal(roundTimeoutMs(5), 800);
  });

  it('runs rounds every interval and reports the flips (fake probe and replica)', async () => {
    let m = machine('aa000001000001', 'web', NET_ACME, HOST_IAD, 'started', { checks, check_interval: 1, health: 'critical' });
    let up = true;
    const listeners = new Set<() => void>();
    const reports: string[] = [];
    const probe: Probe = async () => up;
    const hc = new HealthChecks({
      machines: () => [m],
      subscribe: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      hostId: HOST_IAD,
      log: silentLogger,
      probe,
      report: async (_id, h) => {
        reports.push(h);
        m = { ...m, health: h };
        for (const fn of listeners) fn();
      },
    });
    hc.start();
    try {
      await until(() => reports.length === 1, 3000);
      assert.deepEqual(reports, ['passing']);
      up = false;
      await until(() => reports.length === 2, 3000);
      assert.deepEqual(reports, ['passing', 'critical']);
      m = { ...m, state: 'stopped' };
      for (const fn of listeners) fn();
      up = true;
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(reports, ['passing', 'critical'], 'a stopped machine is not checked');
    } finally {
      hc.stop();
    }
  });
});

describe('membership stream diff', () => {
  it('reports joins, changes and departures in id order', () => {
    const a = machine('aa000001000001', 'web', NET_ACME, HOST_IAD, 'started');
    const b = machine('bb000002000002', 'web', NET_ACME, HOST_IAD, 'started');
    const v = (m: Machine) => JSON.stringify(memberView(m));
    const before = new Map([
      [a.id, v(a)],
      [b.id, v(b)],
    ]);
    const c = machine('cc000003000003', 'web', NET_ACME, HOST_IAD, 'started');
    const after = new Map([
      [a.id, v({ ...a, health: 'critical' })],
      [c.id, v(c)],
    ]);
    const d = diffViews(before, after);
    assert.deepEqual(
      d.map((x) => [x.id, x.state, x.health]),
      [
        [a.id, 'started', 'critical'],
        [b.id, 'destroyed', 'none'],
        [c.id, 'started', 'none'],
      ],
    );
    assert.deepEqual(diffViews(after, after), []);
  });
});
