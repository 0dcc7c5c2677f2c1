// Fair use (issue 11 item 7): one machine cannot flood the global revision
// through its machine API; an org cannot grow past its quotas, even with
// concurrent creates; gateways' peer-status reports take no revision.
import assert from 'node:assert/strict';
import { CoordinatorApi } from '../../src/client/api.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { buildMachineApi } from '../../src/machineapi/server.js';
import { coordinatorWriter } from '../../src/machineapi/writer.js';
import type { Machine } from '../../src/model/types.js';
import pg from 'pg';
import { PostgresBackend } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { startPg, type PgCluster } from '../../testkit/pg.js';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

const KEYS = [
  'nWLpZn0KbOZNwtA6kRxsNeqVKdy7IBuU0I1U1/TQy3o=',
  'A2y1GsjMjlPgfoA0/Zi8Bk2+JC1NmhnGCcBY5TyNixA=',
  'u5LK848M70+UKczAag1uF50RjruTpgrUj92NRZi2n3c=',
  'qRfTzPHAYEvnepAbZEOZ9jsS4nbanz++h0n1WYKjUqY=',
];

describe("fair use: the machine API limits each machine's metadata writes", function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  const replica = new Replica();
  let feed: FeedClient;
  let api: ReturnType<typeof buildMachineApi>;
  let noisy: Machine, quiet: Machine;

  before(async () => {
    c = await testCoordinator();
    const url = await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'pg', org: 'acme' });
    const host = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json;
    noisy = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    quiet = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    feed = new FeedClient({ url, token: host.credential, replica });
    feed.start();
    api = buildMachineApi({ replica, hostId: host.host.id, writer: coordinatorWriter(new CoordinatorApi(url, host.credential), replica) });
    for (let i = 0; i < 250 && !replica.machines.has(quiet.id); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(replica.machines.has(quiet.id), 'the feed never delivered the machines');
  });
  after(async () => {
    await feed.stop();
    await api.close();
    await c.close();
  });

  const put = (m: Machine, key: string, value: string) =>
    api.inject({ method: 'PUT', url: `/v1/self/metadata/${key}`, remoteAddress: m.address, payload: { value } });

  it('takes about 20 of 100 writes in a burst, answers the rest 429 with Retry-After, and the revision grows only by the accepted ones', async () => {
    const before = await c.store.rev();
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => put(noisy, 'seq', `v${i}`)));
    const seconds = (performance.now() - t0) / 1000;
    const ok = answers.filter((r) => r.statusCode === 200);
    const limited = answers.filter((r) => r.statusCode === 429);
    assert.equal(
      ok.length + limited.length,
      100,
      `other answers: ${answers
        .filter((r) => ![200, 429].includes(r.statusCode))
        .map((r) => r.body)
        .join(' | ')}`,
    );
    // The burst at once, plus what 10/s refills while the accepted writes go to the coordinator and back.
    const most = 20 + Math.ceil(seconds * 10);
    assert.ok(ok.length >= 20 && ok.length <= most, `${ok.length} accepted in ${seconds.toFixed(2)} s (burst 20, 10/s: at most ${most})`);
    console.log(`      100 writes in a burst: ${ok.length} accepted, ${limited.length} answered 429, over ${seconds.toFixed(2)} s`);
    for (const r of limited) {
      const retry = Number(r.headers['retry-after']);
      assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${String(r.headers['retry-after'])}`);
      const e = JSON.parse(r.body).error;
      assert.equal(e.code, 'rate_limited');
      assert.match(e.message, /too fast \(limit 10\/s, burst 20\)/);
    }
    assert.equal(await c.store.rev(), before + ok.length, 'one revision per accepted write, none for the refused ones');

    // Another machine on the same host is not affected, and reads are not limited.
    const other = await put(quiet, 'role', 'primary');
    assert.equal(other.statusCode, 200, other.body);
    assert.equal(await c.store.rev(), before + ok.length + 1);
    const reads = await Promise.all(Array.from({ length: 50 }, () => api.inject({ method: 'GET', url: '/v1/self/metadata', remoteAddress: noisy.address })));
    assert.ok(
      reads.every((r) => r.statusCode === 200),
      'reads are never limited',
    );
  });

  it('counts PUT, POST and DELETE as writes, by path id or self, and never GET', async () => {
    const slow = buildMachineApi({
      replica,
      hostId: noisy.host_id,
      writer: coordinatorWriter(new CoordinatorApi(c.url, 'unused'), replica),
      writeRate: { perSecond: 0.01, burst: 1 },
    });
    try {
      const ask = (method: string, url: string, payload?: object) =>
        slow.inject({ method: method as 'GET', url, remoteAddress: quiet.address, ...(payload ? { payload } : {}) });
      const first = await ask('PUT', '/v1/self/metadata/x', { value: 'y' });
      assert.notEqual(first.statusCode, 429, 'the first write has its token');
      for (const [method, url] of [
        ['PUT', '/v1/self/metadata/x'],
        ['POST', `/v1/machines/${quiet.id}/metadata/x`],
        ['DELETE', '/v1/self/metadata/x'],
      ] as const) {
        const r = await ask(method, url, method === 'DELETE' ? undefined : { value: 'z' });
        assert.equal(r.statusCode, 429, `${method} ${url}: ${r.body}`);
        assert.equal(r.headers['retry-after'], '100');
      }
      assert.equal((await ask('GET', '/v1/self/metadata')).statusCode, 200);
      assert.equal((await ask('GET', '/v1/machines')).statusCode, 200);
    } finally {
      await slow.close();
    }
  });

  it('lets the machine write again once its bucket refills', async () => {
    await new Promise((r) => setTimeout(r, 250));
    const r = await put(noisy, 'seq', 'after');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await c.store.getMachine(noisy.id)).metadata.seq, 'after');
  });
});

describe('fair use: per-org quotas (SQLite)', function () {
  this.timeout(30_000);
  let c: TestCoordinator;

  before(async () => {
    c = await testCoordinator({ quotas: { machines: 3, networks: 2, peers: 2, tokens: 2 } });
    for (const org of ['acme', 'other']) {
      await c.call('POST', '/v1/orgs', { name: org });
      await c.call('POST', '/v1/apps', { name: `${org}-web`, org });
    }
    await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: true });
  });
  after(async () => {
    await c.close();
  });

  const refused = (r: { status: number; json: any }, kind: string, limit: number): void => {
    assert.equal(r.status, 429, JSON.stringify(r.json));
    assert.equal(r.json.error.code, 'quota_exceeded');
    assert.match(r.json.error.message, new RegExp(`org acme has reached its quota of ${limit} ${kind} \\(the coordinator's --quota-${kind}\\)`));
  };

  it('lets 10 concurrent machine creates make exactly the quota (3), answers the rest 429 quota_exceeded, publishes nothing for them', async () => {
    const before = await c.store.rev();
    const rs = await Promise.all(Array.from({ length: 10 }, () => c.call('POST', '/v1/machines', { app: 'acme-web', region: 'iad' })));
    assert.equal(rs.filter((r) => r.status === 201).length, 3);
    for (const r of rs.filter((x) => x.status !== 201)) refused(r, 'machines', 3);
    assert.equal(await c.store.rev(), before + 3);
    assert.equal((await c.store.listMachines({ app: 'acme-web' })).length, 3);
    assert.equal((await c.call('POST', '/v1/machines', { app: 'other-web', region: 'iad' })).status, 201, 'another org has its own quota');
  });

  it('counts live machines only: a destroyed one frees its place', async () => {
    const [m] = await c.store.listMachines({ app: 'acme-web' });
    assert.equal((await c.call('DELETE', `/v1/machines/${m!.id}`)).status, 200);
    assert.equal((await c.call('POST', '/v1/machines', { app: 'acme-web', region: 'iad' })).status, 201);
    refused(await c.call('POST', '/v1/machines', { app: 'acme-web', region: 'iad' }), 'machines', 3);
  });

  it('limits networks, the default one included, and an app cannot make one past it', async () => {
    assert.equal((await c.call('POST', '/v1/orgs/acme/networks', { name: 'blue' })).status, 201);
    refused(await c.call('POST', '/v1/orgs/acme/networks', { name: 'green' }), 'networks', 2);
    refused(await c.call('POST', '/v1/apps', { name: 'acme-db', org: 'acme', network: 'red' }), 'networks', 2);
    assert.equal((await c.call('GET', '/v1/apps/acme-db')).status, 404, 'the refused app was rolled back with its network');
    assert.equal((await c.call('POST', '/v1/apps', { name: 'acme-db', org: 'acme', network: 'blue' })).status, 201, 'an existing network is no new one');
    assert.deepEqual(
      (await c.store.listNetworks('acme')).map((n) => n.name),
      ['default', 'blue'],
    );
  });

  it('limits developer peers', async () => {
    for (const [i, name] of ['p1', 'p2'].entries()) {
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name, region: 'iad', public_key: KEYS[i] })).status, 201);
    }
    refused(await c.call('POST', '/v1/orgs/acme/peers', { name: 'p3', region: 'iad', public_key: KEYS[2] }), 'peers', 2);
    assert.equal((await c.store.listPeers('acme')).length, 2);
    assert.equal((await c.call('POST', '/v1/orgs/other/peers', { name: 'p1', region: 'iad', public_key: KEYS[3] })).status, 201);
  });

  it('limits unrevoked org tokens; revoking one frees its place; admin and host tokens do not count', async () => {
    const made = [];
    for (const scope of ['org', 'wireguard']) {
      const r = await c.call('POST', '/v1/tokens', { scope, org: 'acme' });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      made.push(r.json);
    }
    refused(await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' }), 'tokens', 2);
    // An org token may not mint past the quota either.
    refused(await c.call('POST', '/v1/tokens', { scope: 'wireguard', org: 'acme' }, made[0].token), 'tokens', 2);
    assert.equal((await c.call('POST', '/v1/tokens', { scope: 'admin' })).status, 201);
    assert.equal((await c.call('DELETE', `/v1/tokens/${made[1].id}`)).status, 200);
    assert.equal((await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).status, 201);
  });

  it('expired tokens free their place too', async () => {
    refused(await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' }), 'tokens', 2);
    const live = await c.store.listTokens('acme');
    assert.equal(live.length, 2);
    // Let one of them lapse (as `--ttl` would have), in the store itself.
    await c.store.backend.write((tx) => tx.run('UPDATE tokens SET expires_at = ? WHERE id = ?', ['2000-01-01T00:00:00.000Z', live[0]!.id]));
    assert.equal((await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).status, 201);
    refused(await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' }), 'tokens', 2);
  });
});

describe('fair use: peer-status reports take no revision', function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  let hostId: number;
  let credential: string;

  before(async () => {
    c = await testCoordinator();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    const h = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_B, gateway: true })).json;
    hostId = h.host.id;
    credential = h.credential;
    assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'iad', public_key: KEY_C })).status, 201);
  });
  after(async () => {
    await c.close();
  });

  it('stores 50 reports, visible on the peer, while the revision and the change log stay where they were', async () => {
    const rev = await c.store.rev();
    let wakes = 0;
    const off = c.store.onCommit(() => {
      wakes++;
    });
    try {
      for (let i = 1; i <= 50; i++) {
        const r = await c.call(
          'PUT',
          `/v1/hosts/${hostId}/peer-status`,
          { peers: [{ org: 'acme', name: 'laptop', latest_handshake: 1000 + i, rx_bytes: i, tx_bytes: 2 * i, endpoint: '198.51.100.7:40000' }] },
          credential,
        );
        assert.equal(r.status, 204, JSON.stringify(r.json));
      }
    } finally {
      off();
    }
    assert.equal(await c.store.rev(), rev, 'no revision for a status report');
    assert.deepEqual(await c.store.changesSince(rev), []);
    assert.equal(wakes, 0, 'the feed hub is not woken by status reports');
    const shown = (await c.call('GET', '/v1/orgs/acme/peers/laptop')).json.status;
    assert.equal(shown.latest_handshake, 1050);
    assert.equal(shown.tx_bytes, 100);
  });

  it('a peer made again under a removed name starts with no status', async () => {
    assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/laptop')).status, 200);
    await c.store.setPeerStatus(hostId, [{ org: 'acme', name: 'laptop', latest_handshake: 1, rx_bytes: 1, tx_bytes: 1, endpoint: null }]);
    assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'iad', public_key: KEY_C })).status, 201);
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers/laptop')).json.status, null);
  });
});

describe('fair use: quota flags', function () {
  this.timeout(30_000);
  it('refuses a quota that is not an integer in 1..1000000 with exit 2 naming the flag (coordinator and up)', async () => {
    const dir = tempDir();
    try {
      for (const [cmd, flag, value] of [
        ['coordinator', 'quota-machines', '0'],
        ['coordinator', 'quota-tokens', '-1'],
        ['up', 'quota-networks', '1e3'],
        ['up', 'quota-peers', '2000000'],
      ] as const) {
        const r = await runCli([cmd, '--data', dir.path, `--${flag}`, value, '--no-agent'].filter((a) => cmd === 'up' || a !== '--no-agent'));
        assert.equal(r.code, 2, `${cmd} --${flag} ${value}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`--${flag} must be an integer in 1\\.\\.1000000`));
      }
    } finally {
      dir.remove();
    }
  });
});

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

describe('fair use on PostgreSQL: quotas across two coordinators; status reports outside the revision lock', function () {
  this.timeout(60_000);
  let cluster: PgCluster;
  const procs: Proc[] = [];

  before(async () => {
    cluster = await startPg();
  });
  after(async () => {
    for (const p of procs) await p.kill();
    cluster?.stop();
  });

  async function coordinator(db: string): Promise<string> {
    const proc = sixpn(['coordinator', '--db', db, '--listen', '127.0.0.1:0', '--quota-machines', '5', '--log-level', 'info']);
    procs.push(proc);
    return (await proc.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]!;
  }

  it('lets 20 concurrent creates through two coordinators make exactly --quota-machines 5', async () => {
    const db = await cluster.createDb('quota');
    const a = await coordinator(db);
    const admin = (await procs[0]!.waitFor(/admin token \(shown once[^)]*\): (\S+)/))[1]!;
    const b = await coordinator(db);
    assert.equal((await api(a, admin, 'POST', '/v1/orgs', { name: 'acme' })).status, 201);
    assert.equal((await api(a, admin, 'POST', '/v1/apps', { name: 'web', org: 'acme' })).status, 201);
    assert.equal((await api(a, admin, 'POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).status, 201);
    const rev0 = (await api(a, admin, 'GET', '/healthz')).json.rev as number;
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => api(i % 2 ? a : b, admin, 'POST', '/v1/machines', { app: 'web', region: 'iad' })));
    assert.equal(rs.filter((r) => r.status === 201).length, 5, JSON.stringify(rs.map((r) => r.status)));
    for (const r of rs.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 429);
      assert.equal(r.json.error.code, 'quota_exceeded');
      assert.match(r.json.error.message, /quota of 5 machines/);
    }
    assert.equal((await api(b, admin, 'GET', '/v1/machines?app=web')).json.machines.length, 5);
    assert.equal((await api(b, admin, 'GET', '/healthz')).json.rev, rev0 + 5);
  });

  it('stores a peer-status report while another transaction holds the revision lock (a write waits)', async () => {
    const db = await cluster.createDb('status');
    const store = await Store.open(await PostgresBackend.connect(db));
    const holder = new pg.Client({ connectionString: db });
    await holder.connect();
    try {
      await store.createOrg('acme');
      const { host: gw } = await store.enrollHost({ region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_B, gateway: true });
      await store.createPeer({ org: 'acme', name: 'laptop', region: 'iad', public_key: KEY_C });
      const rev = await store.rev();
      await holder.query('BEGIN');
      await holder.query('SELECT rev FROM revision WHERE id = 1 FOR UPDATE');
      let written = false;
      const write = store.createOrg('blocked').then(() => {
        written = true;
      });
      const t0 = performance.now();
      await store.setPeerStatus(gw.id, [{ org: 'acme', name: 'laptop', latest_handshake: 42, rx_bytes: 1, tx_bytes: 2, endpoint: null }]);
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `the report took ${ms.toFixed(0)} ms`);
      assert.equal(written, false, 'a feed write does wait for the lock');
      assert.equal((await store.getPeerStatus('acme', 'laptop'))?.latest_handshake, 42);
      await holder.query('COMMIT');
      await write;
      assert.equal(await store.rev(), rev + 1, 'only the org took a revision');
    } finally {
      await holder.end().catch(() => undefined);
      await store.close();
    }
  });
});
