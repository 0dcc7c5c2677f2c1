// A host's heartbeat report (handshakes with the other hosts, its agent's and
// DNS server's replica revisions) against an in-process coordinator (real
// SQLite, real HTTP): shown by hosts list|show and `sixpn status`, written
// aside (no revision, no feed wake-up), validated (400, nothing written), and
// only ever the reporting host's own.
import assert from 'node:assert/strict';
import type { HostReport } from '../../src/model/host-report.js';
import { generateKeyPair } from '../../src/wg/keys.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { openLines } from '../../testkit/lines.js';
import { runCliIn } from '../../testkit/peers.js';
import { until } from '../../testkit/until.js';
import { startPg } from '../../testkit/pg.js';
import { PostgresBackend } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('host reports (the heartbeat body)', function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  const h: Record<'ams' | 'iad' | 'nrt', { id: number; credential: string }> = {} as never;

  const report = (over: Partial<HostReport> = {}): HostReport => ({
    agent: { rev: 0, last_change_ms: 1500 },
    dns: { rev: 0, last_change_ms: 2500 },
    peers: [],
    ...over,
  });
  const beat = (from: keyof typeof h, body?: unknown, to: number = h[from].id) => c.call('PUT', `/v1/hosts/${to}/heartbeat`, body, h[from].credential);
  const shown = async (id: number) => (await c.call('GET', `/v1/hosts/${id}`)).json.host;

  before(async () => {
    c = await testCoordinator({ keepChanges: 2 });
    for (const [region, key] of [
      ['ams', KEY_A],
      ['iad', KEY_B],
      ['nrt', KEY_C],
    ] as const) {
      const r = await c.call('POST', '/v1/hosts', { region, endpoint: `192.0.2.${Object.keys(h).length + 1}:51820`, public_key: key, gateway: false });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      h[region] = { id: r.json.host.id, credential: r.json.credential };
    }
  });
  after(() => c.close());

  it('a host with no report (a bare heartbeat: older agents, `up`) shows report null', async () => {
    assert.equal((await beat('ams')).status, 204);
    assert.equal((await shown(h.ams.id)).report, null);
    assert.deepEqual(
      (await c.call('GET', '/v1/hosts')).json.hosts.map((x: { report: unknown }) => x.report),
      [null, null, null],
    );
  });

  it('the report shows in hosts list and show, with ages on the coordinator clock, and makes no revision and wakes no feed', async () => {
    const rev = await c.store.rev();
    let commits = 0;
    const off = c.store.onCommit(() => commits++);
    const body = report({
      agent: { rev, last_change_ms: 4000 },
      dns: { rev: rev - 1, last_change_ms: null },
      peers: [
        { host_id: h.iad.id, handshake_age_s: 12, endpoint: '192.0.2.2:51820', rx_bytes: 1000, tx_bytes: 2000, sending: true },
        { host_id: h.nrt.id, handshake_age_s: null, endpoint: null, rx_bytes: 0, tx_bytes: 0, sending: false },
      ],
    });
    const t0 = Date.now();
    assert.equal((await beat('ams', body)).status, 204);
    off();
    assert.equal(await c.store.rev(), rev, 'no revision');
    assert.equal(commits, 0, 'no feed wake-up');
    const r = (await shown(h.ams.id)).report;
    assert.ok(r, 'reported');
    assert.ok(Math.abs(Date.parse(r.reported_at) - t0) < 2000);
    assert.deepEqual(r.agent, { rev, coordinator_rev: rev, lag: 0, lag_s: 0, last_change_s: 4 });
    assert.equal(r.dns.lag, 1);
    assert.ok(r.dns.lag_s !== null && r.dns.lag_s >= 0 && r.dns.lag_s < 60, JSON.stringify(r.dns));
    assert.equal(r.dns.last_change_s, null);
    assert.deepEqual(
      r.peers.map((p: { host_id: number; handshake_age_s: number | null; sending: boolean }) => [p.host_id, p.handshake_age_s, p.sending]),
      [
        [h.iad.id, 12],
        [h.nrt.id, null],
      ].map(([id, age], i) => [id, age, i === 0]),
    );
    assert.ok(Math.abs(Date.parse(r.peers[0].latest_handshake) - (t0 - 12_000)) < 2000);
    assert.equal(r.peers[1].latest_handshake, null);
    const listed = (await c.call('GET', '/v1/hosts')).json.hosts.find((x: { id: number }) => x.id === h.ams.id);
    assert.deepEqual(listed.report, r);
    // A host reads its own record, report included.
    assert.deepEqual((await c.call('GET', `/v1/hosts/${h.ams.id}`, undefined, h.ams.credential)).json.host.report.agent.rev, rev);
    // Ages keep counting after the report.
    await sleep(1100);
    assert.ok((await shown(h.ams.id)).report.peers[0].handshake_age_s >= 13);
  });

  it('peers that are not other enrolled hosts are dropped: itself, unknown ids, removed hosts', async () => {
    const gone = await c.call('POST', '/v1/hosts', { region: 'fra', endpoint: '192.0.2.9:51820', public_key: generateKeyPair().publicKey, gateway: false });
    assert.equal(gone.status, 201);
    const peer = (id: number) => ({ host_id: id, handshake_age_s: 1, endpoint: null, rx_bytes: 1, tx_bytes: 1, sending: false });
    assert.equal((await c.call('PUT', `/v1/hosts/${gone.json.host.id}/heartbeat`, report({ peers: [peer(h.ams.id)] }), gone.json.credential)).status, 204);
    assert.equal((await c.call('DELETE', `/v1/hosts/${gone.json.host.id}`)).status, 200);
    assert.equal((await beat('iad', report({ peers: [peer(h.iad.id), peer(9999), peer(gone.json.host.id), peer(h.ams.id)] }))).status, 204);
    assert.deepEqual(
      (await shown(h.iad.id)).report.peers.map((p: { host_id: number }) => p.host_id),
      [h.ams.id],
    );
    // A removed host's own report goes with it (its credential is refused anyway).
    const late = await c.call('PUT', `/v1/hosts/${gone.json.host.id}/heartbeat`, report(), gone.json.credential);
    assert.ok([401, 404].includes(late.status), `a removed host's heartbeat: ${late.status}`);
    assert.deepEqual(
      (await c.call('GET', '/v1/hosts')).json.hosts.map((x: { id: number }) => x.id),
      [h.ams.id, h.iad.id, h.nrt.id],
    );
  });

  it('bad input is a 400 with a message, and nothing is written (not even the heartbeat)', async () => {
    const before = await shown(h.nrt.id);
    await sleep(20);
    const p = { host_id: h.ams.id, handshake_age_s: 1, endpoint: null, rx_bytes: 1, tx_bytes: 1, sending: false };
    const bad: [string, unknown][] = [
      ['no agent', { dns: null, peers: [] }],
      ['negative rev', report({ agent: { rev: -1, last_change_ms: null } })],
      ['fractional age', report({ peers: [{ ...p, handshake_age_s: 1.5 }] })],
      ['negative bytes', report({ peers: [{ ...p, rx_bytes: -1 }] })],
      ['a field too many', { ...report(), secret: 'x' }],
      ['a peer field too many', report({ peers: [{ ...p, extra: 1 } as never] })],
      ['host_id 0', report({ peers: [{ ...p, host_id: 0 }] })],
      ['a long endpoint', report({ peers: [{ ...p, endpoint: 'x'.repeat(101) }] })],
      ['peers not a list', { ...report(), peers: {} }],
      ['a peer twice', report({ peers: [p, p] })],
      ['too many peers', report({ peers: Array.from({ length: 5001 }, (_, i) => ({ ...p, host_id: i + 1 })) })],
      ['a list body', []],
    ];
    for (const [what, body] of bad) {
      const r = await beat('nrt', body);
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'invalid', what);
      assert.ok(r.json.error.message.length > 5, what);
    }
    const after = await shown(h.nrt.id);
    assert.equal(after.report, null, 'no report written');
    assert.equal(after.last_seen, before.last_seen, 'no heartbeat written');
  });

  it("a host credential cannot write another host's report (nor an admin, nor an org token)", async () => {
    const victim = await shown(h.iad.id);
    const forged = report({
      agent: { rev: 0, last_change_ms: null },
      peers: [{ host_id: h.ams.id, handshake_age_s: null, endpoint: '203.0.113.66:51820', rx_bytes: 0, tx_bytes: 99, sending: true }],
    });
    const r = await beat('ams', forged, h.iad.id);
    assert.equal(r.status, 403);
    assert.match(r.json.error.message, /only the host itself/);
    assert.equal((await c.call('PUT', `/v1/hosts/${h.iad.id}/heartbeat`, forged)).status, 403, 'not even an admin');
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    const org = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json.token;
    assert.equal((await c.call('PUT', `/v1/hosts/${h.iad.id}/heartbeat`, forged, org)).status, 403);
    assert.equal((await c.call('PUT', `/v1/hosts/${h.iad.id}/heartbeat`, forged, null)).status, 401);
    const now = await shown(h.iad.id);
    assert.equal(now.last_seen, victim.last_seen, "the victim's heartbeat is untouched");
    assert.equal(now.report.reported_at, victim.report.reported_at, "the victim's report is untouched");
    assert.deepEqual(
      now.report.peers.map((x: { endpoint: string | null }) => x.endpoint),
      victim.report.peers.map((x: { endpoint: string | null }) => x.endpoint),
    );
  });

  it('`sixpn status` shows the handshakes and feed lag, problems first; --json carries the same fields', async () => {
    // Make a few revisions so the change log (keepChanges 2) no longer holds rev 1.
    for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) await c.call('POST', '/v1/orgs', { name: n });
    const head = await c.store.rev();
    const ok = { host_id: h.iad.id, handshake_age_s: 5, endpoint: '192.0.2.2:51820', rx_bytes: 10, tx_bytes: 20, sending: true };
    const silent = { host_id: h.nrt.id, handshake_age_s: null, endpoint: '192.0.2.3:51820', rx_bytes: 0, tx_bytes: 1480, sending: true };
    const idle = { host_id: h.ams.id, handshake_age_s: 900, endpoint: '192.0.2.1:51820', rx_bytes: 0, tx_bytes: 0, sending: false };
    assert.equal(
      (await beat('ams', report({ agent: { rev: head, last_change_ms: 0 }, dns: { rev: head, last_change_ms: 0 }, peers: [ok, silent] }))).status,
      204,
    );
    assert.equal((await beat('iad', report({ agent: { rev: head, last_change_ms: 0 }, dns: null, peers: [idle] }))).status, 204);
    assert.equal((await beat('nrt', report({ agent: { rev: 1, last_change_ms: 60_000 }, dns: { rev: head, last_change_ms: 0 }, peers: [] }))).status, 204);
    const url = await c.listen();
    const env = { SIXPN_CONFIG: `${c.dir}/no-cli.json`, HOME: c.dir };
    const j = await runCliIn(c.dir, ['status', '--json', '--api', url, '--token', c.admin], env);
    assert.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout);
    const problems = s.problems as string[];
    assert.ok(
      problems.some((p) => p.includes(`host ${h.ams.id} (ams) sends to host ${h.nrt.id} (nrt) over WireGuard but gets no handshake back (last: never)`)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => new RegExp(`^host ${h.nrt.id} \\(nrt\\): its agent is ${head - 1} revision\\(s\\) behind`).test(p)),
      problems.join('\n'),
    );
    assert.ok(!problems.some((p) => p.includes(`sends to host ${h.iad.id}`)), 'a fresh handshake is no problem');
    assert.ok(!problems.some((p) => p.includes(`sends to host ${h.ams.id}`)), 'an idle tunnel with an old handshake is no problem');
    // Ages count on while the CLI starts: compare them within a bound.
    const within = (v: number, from: number): boolean => v >= from && v <= from + 15;
    const ams = s.hosts.find((x: { id: number }) => x.id === h.ams.id);
    assert.deepEqual(
      ams.wireguard.map((p: { handshake_age_s: number | null }) => ({
        ...p,
        handshake_age_s: p.handshake_age_s === null ? null : within(p.handshake_age_s, 5),
      })),
      [
        { host_id: h.iad.id, region: 'iad', handshake_age_s: true, endpoint: '192.0.2.2:51820', sending: true },
        { host_id: h.nrt.id, region: 'nrt', handshake_age_s: null, endpoint: '192.0.2.3:51820', sending: true },
      ],
    );
    assert.deepEqual({ ...ams.agent_feed, last_change_s: within(ams.agent_feed.last_change_s, 0) }, { rev: head, lag: 0, lag_s: 0, last_change_s: true });
    assert.deepEqual({ ...ams.dns_feed, last_change_s: within(ams.dns_feed.last_change_s, 0) }, { rev: head, lag: 0, lag_s: 0, last_change_s: true });
    const nrt = s.hosts.find((x: { id: number }) => x.id === h.nrt.id);
    assert.deepEqual(
      { ...nrt.agent_feed, last_change_s: within(nrt.agent_feed.last_change_s, 60) },
      { rev: 1, lag: head - 1, lag_s: null, last_change_s: true },
    );
    assert.equal(s.hosts.find((x: { id: number }) => x.id === h.iad.id).dns_feed, null);

    const show = await runCliIn(c.dir, ['hosts', 'show', String(h.ams.id), '--api', url, '--token', c.admin], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^handshakes\\s+host ${h.iad.id} \\d+s ago \\(sending\\), host ${h.nrt.id} never \\(sending\\)$`, 'm'));
    assert.match(show.stdout, new RegExp(`^agent_feed\\s+0 behind \\(rev ${head}\\)$`, 'm'));
    assert.match(show.stdout, /^reported\s+\d{4}-/m);
    const t = await runCliIn(c.dir, ['status', '--api', url, '--token', c.admin], env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^problems:\n {2}! /);
    assert.match(t.stdout, /\nwireguard between hosts \(as each host last reported\)\nHOST\s+PEER\s+HANDSHAKE\s+SENDING\s+ENDPOINT\n/);
    assert.match(t.stdout, new RegExp(`\\n${h.ams.id} \\(ams\\)\\s+${h.iad.id} \\(iad\\)\\s+\\d+s ago\\s+yes\\s+192\\.0\\.2\\.2:51820\\n`));
    assert.match(t.stdout, new RegExp(`\\n${h.ams.id} \\(ams\\)\\s+${h.nrt.id} \\(nrt\\)\\s+never\\s+yes\\s+192\\.0\\.2\\.3:51820\\n`));
    assert.match(
      t.stdout,
      /\nfeed lag \(revisions behind, as of each host's last report\)\nHOST\s+REPORTED\s+AGENT_REV\s+AGENT_LAG\s+DNS_REV\s+DNS_LAG\s+LAST_CHANGE\n/,
    );
    assert.match(t.stdout, new RegExp(`\\n${h.nrt.id} \\(nrt\\)\\s+\\d+s ago\\s+1\\s+${head - 1} \\(\\?\\)\\s+${head}\\s+0\\s+\\d+s ago\\n`));
    assert.match(t.stdout, new RegExp(`\\n${h.iad.id} \\(iad\\)\\s+\\d+s ago\\s+${head}\\s+0\\s+-\\s+-\\s+\\d+s ago\\n`));
  });

  it('the same on PostgreSQL: written aside, joined into hosts list and show, removed with its host', async function () {
    this.timeout(60_000);
    const cluster = await startPg();
    let store: Store | null = null;
    try {
      store = await Store.open(await PostgresBackend.connect(await cluster.createDb('reports')));
      const a = (await store.enrollHost({ region: 'ams', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: false })).host;
      const b = (await store.enrollHost({ region: 'iad', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: false })).host;
      const rev = await store.rev();
      await store.heartbeat(a.id, {
        agent: { rev: rev - 1, last_change_ms: 2000 },
        dns: null,
        peers: [{ host_id: b.id, handshake_age_s: 3, endpoint: '192.0.2.2:51820', rx_bytes: 2 ** 40, tx_bytes: 1, sending: true }],
      });
      assert.equal(await store.rev(), rev, 'no revision');
      const r = (await store.getHostWithStatus(a.id)).report!;
      assert.deepEqual({ ...r.agent, lag_s: typeof r.agent.lag_s }, { rev: rev - 1, coordinator_rev: rev, lag: 1, lag_s: 'number', last_change_s: 2 });
      assert.equal(r.dns, null);
      assert.deepEqual(
        r.peers.map((p) => [p.host_id, p.handshake_age_s, p.rx_bytes, p.sending]),
        [[b.id, 3, 2 ** 40, true]],
      );
      assert.deepEqual(
        (await store.listHostsWithStatus()).map((h) => h.report === null),
        [false, true],
      );
      await store.removeHost(b.id, false);
      assert.deepEqual((await store.getHostWithStatus(a.id)).report!.peers, [], 'a removed host leaves the reports that name it');
      await store.removeHost(a.id, false);
    } finally {
      await store?.close();
      cluster.stop();
    }
  });
});

describe("host reports on the dashboard stream: the shown hosts' handshakes, scoped", function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  const id: Record<string, number> = {};
  const cred: Record<string, string> = {};
  const tok: Record<string, string> = {};

  before(async () => {
    c = await testCoordinator();
    await c.listen();
    for (const [region, key] of [
      ['ams', KEY_A],
      ['iad', KEY_B],
      ['nrt', KEY_C],
    ] as const) {
      const r = await c.call('POST', '/v1/hosts', { region, endpoint: `192.0.2.${Object.keys(id).length + 1}:51820`, public_key: key, gateway: false });
      id[region] = r.json.host.id;
      cred[region] = r.json.credential;
    }
    for (const org of ['acme', 'rival']) {
      await c.call('POST', '/v1/orgs', { name: org });
      tok[org] = (await c.call('POST', '/v1/tokens', { scope: 'org', org })).json.token;
    }
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'vault', org: 'rival' });
    for (const region of ['ams', 'iad']) assert.equal((await c.call('POST', '/v1/machines', { app: 'web', region })).status, 201);
    assert.equal((await c.call('POST', '/v1/machines', { app: 'vault', region: 'nrt' })).status, 201);
    const link = (to: string, age: number) => ({ host_id: id[to]!, handshake_age_s: age, endpoint: null, rx_bytes: 1, tx_bytes: 1, sending: false });
    const body = { agent: { rev: 1, last_change_ms: null }, dns: null, peers: [link('iad', 100), link('nrt', 100)] };
    assert.equal((await c.call('PUT', `/v1/hosts/${id.ams}/heartbeat`, body, cred.ams)).status, 204);
  });
  after(() => c.close());

  it('an org token gets the links between the hosts it sees, admin all, another org none of them; a new handshake moves', async () => {
    const acme = await openLines(`${c.url}/v1/ui/stream`, tok.acme!);
    const admin = await openLines(`${c.url}/v1/ui/stream`, c.admin);
    const rival = await openLines(`${c.url}/v1/ui/stream`, tok.rival!);
    try {
      const status = (s: typeof acme) => s.lines().filter((l) => l.type === 'host_status');
      await until(() => status(acme).length > 0 && status(admin).length > 0 && rival.lines().some((l) => l.type === 'snapshot'));
      const ids = (m: { status: Record<string, { host_id: number }[]> }) =>
        Object.fromEntries(Object.entries(m.status).map(([k, v]) => [k, v.map((x) => x.host_id)]));
      assert.deepEqual(ids(status(acme)[0]), { [id.ams!]: [id.iad!] }, 'nrt carries nothing of acme: not shown, nor its link');
      assert.deepEqual(ids(status(admin)[0]), { [id.ams!]: [id.iad!, id.nrt!] });
      const first = status(acme)[0].status[id.ams!][0].latest_handshake;
      assert.ok(Math.abs(Date.parse(first) - (Date.now() - 100_000)) < 5000, first);
      // A fresh handshake reaches the page within the stream's report poll (2 s).
      const body = {
        agent: { rev: 1, last_change_ms: null },
        dns: null,
        peers: [{ host_id: id.iad!, handshake_age_s: 0, endpoint: null, rx_bytes: 1, tx_bytes: 1, sending: false }],
      };
      assert.equal((await c.call('PUT', `/v1/hosts/${id.ams}/heartbeat`, body, cred.ams)).status, 204);
      await until(() => status(acme).length > 1, 10_000);
      assert.ok(Date.now() - Date.parse(status(acme)[1].status[id.ams!][0].latest_handshake) < 5000);
      assert.ok(!rival.raw().includes('host_status'), 'the rival org sees no host that reported');
    } finally {
      for (const s of [acme, admin, rival]) s.stop();
      await Promise.all([acme.ended, admin.ended, rival.ended]);
    }
  });
});
