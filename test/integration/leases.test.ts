// Leases, health reports, conditional metadata writes and the membership
// stream, through the machine API of one host and the real coordinator over
// HTTP with the host's credential (as the agent wires them).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoordinatorApi } from '../../src/client/api.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { buildMachineApi } from '../../src/machineapi/server.js';
import { coordinatorWriter } from '../../src/machineapi/writer.js';
import type { Machine } from '../../src/model/types.js';
import { KEY_A, KEY_B, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { until } from '../../testkit/until.js';

describe('leases, health and membership on the machine API', () => {
  let c: TestCoordinator;
  const replica = new Replica();
  let feed: FeedClient;
  let api: ReturnType<typeof buildMachineApi>;
  let a: Machine, b: Machine, web: Machine, checked: Machine, theirs: Machine;
  let credential: string, otherCredential: string;

  const from = (m: Machine, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    api.inject({ method: method as 'GET', url, remoteAddress: m.address, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const body = (r: { body: string }) => JSON.parse(r.body);
  const shown = (id: string) => replica.machines.get(id);

  before(async () => {
    c = await testCoordinator();
    const url = await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'pg', org: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    const host = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json;
    const other = (await c.call('POST', '/v1/hosts', { region: 'ord', endpoint: '192.0.2.2:51820', public_key: KEY_B })).json;
    a = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    b = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    web = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    const r = await c.call('POST', '/v1/machines', {
      app: 'pg',
      region: 'iad',
      checks: ['tcp:5432', 'http:8080/healthz'],
      check_interval: 2,
      ports: ['pg:5432', 'dns:53/udp'],
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    checked = r.json.machine;
    theirs = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'ord' })).json.machine;
    credential = host.credential;
    otherCredential = other.credential;
    feed = new FeedClient({ url, token: credential, replica });
    feed.start();
    const coord = new CoordinatorApi(url, credential);
    api = buildMachineApi({ replica, hostId: host.host.id, writer: coordinatorWriter(coord, replica), leases: coord });
    await until(() => replica.machines.has(theirs.id), 5000);
  });
  after(async () => {
    await feed.stop();
    await api.close();
    await c.close();
  });

  it('stores checks and ports with the machine; health starts critical with checks, none without', () => {
    assert.deepEqual(checked.checks, [
      { type: 'tcp', port: 5432 },
      { type: 'http', port: 8080, path: '/healthz' },
    ]);
    assert.equal(checked.check_interval, 2);
    assert.deepEqual(checked.ports, [
      { name: 'pg', port: 5432, protocol: 'tcp' },
      { name: 'dns', port: 53, protocol: 'udp' },
    ]);
    assert.equal(checked.health, 'critical');
    assert.equal(a.health, 'none');
    assert.equal(a.check_interval, 5);
  });

  it('refuses bad checks, ports and intervals with 400 and writes nothing', async () => {
    const before = (await c.store.listMachines({ app: 'pg' })).length;
    const rev = await c.store.rev();
    for (const [extra, says] of [
      [{ checks: ['udp:53'] }, 'unknown check kind'],
      [{ checks: ['tcp:0'] }, '1-65535'],
      [{ checks: ['tcp:65536'] }, '1-65535'],
      [{ checks: ['http:80/a b'] }, 'path'],
      [{ checks: ['http:80/a\u0001'] }, 'path'],
      [{ checks: ['tcp:80/x'] }, 'no path'],
      [{ checks: Array(9).fill('tcp:80') }, '8'],
      [{ ports: ['http:0'] }, '1-65535'],
      [{ ports: ['http:80/sctp'] }, 'tcp or udp'],
      [{ ports: ['Bad_Name:80'] }, 'DNS label'],
      [{ ports: Array(17).fill('http:80') }, '16'],
      [{ check_interval: 0 }, 'check_interval'],
    ] as const) {
      const r = await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad', ...extra });
      assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'invalid');
      assert.match(r.json.error.message, new RegExp(says.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    assert.equal((await c.store.listMachines({ app: 'pg' })).length, before);
    assert.equal(await c.store.rev(), rev);
  });

  it('takes health reports from the carrying host only, and writes a revision only on a flip', async () => {
    const host = new CoordinatorApi(c.url, credential);
    const rev0 = await c.store.rev();
    assert.equal((await host.reportHealth(checked.id, 'passing')).machine.health, 'passing');
    const rev1 = await c.store.rev();
    assert.equal(rev1, rev0 + 1);
    await host.reportHealth(checked.id, 'passing');
    assert.equal(await c.store.rev(), rev1, 'a repeated outcome is not a change');
    // another host's credential may not report this machine's health
    await assert.rejects(new CoordinatorApi(c.url, otherCredential).reportHealth(checked.id, 'critical'), (e: { status?: number }) => e.status === 403);
    // a machine without checks stays `none`
    assert.equal((await host.reportHealth(a.id, 'passing')).machine.health, 'none');
    await until(() => shown(checked.id)?.health === 'passing', 5000);
  });

  it('two machines contend for a lease: exactly one wins, the other gets 409 with the holder', async () => {
    const [ra, rb] = await Promise.all([from(a, 'PUT', '/v1/self/leases/primary', { ttl: 10 }), from(b, 'PUT', '/v1/self/leases/primary', { ttl: 10 })]);
    const codes = [ra.statusCode, rb.statusCode].sort();
    assert.deepEqual(codes, [200, 409], `${ra.body} / ${rb.body}`);
    const [win, lose, winner] = ra.statusCode === 200 ? [ra, rb, a] : [rb, ra, b];
    assert.equal(body(win).holder, winner.id);
    assert.equal(body(win).name, 'primary');
    assert.equal(body(win).fence, 1);
    assert.ok(Date.parse(body(win).expires_at) > Date.now() + 8000);
    assert.equal(body(lose).holder, winner.id);
    assert.equal(body(lose).error.code, 'conflict');
    // the winner's host already shows it (DNS answers primary.lease.pg.internal at once)
    assert.deepEqual(shown(winner.id)?.leases, ['primary']);
    // renewing keeps the fence
    const renew = await from(winner, 'PUT', '/v1/self/leases/primary', { ttl: 20 });
    assert.equal(renew.statusCode, 200);
    assert.equal(body(renew).fence, 1);
    // both read the same lease
    assert.equal(body(await from(a, 'GET', '/v1/leases/primary')).holder, winner.id);
    assert.equal(body(await from(b, 'GET', '/v1/leases/primary')).holder, winner.id);
    // the loser may not release it
    assert.equal((await from(winner === a ? b : a, 'DELETE', '/v1/self/leases/primary')).statusCode, 409);
    // release, then the other takes it with a higher fence
    const rel = await from(winner, 'DELETE', '/v1/self/leases/primary');
    assert.equal(rel.statusCode, 200);
    assert.equal(body(rel).holder, null);
    const next = winner === a ? b : a;
    const take = await from(next, 'PUT', '/v1/self/leases/primary', { ttl: 10 });
    assert.equal(take.statusCode, 200, take.body);
    assert.equal(body(take).fence, 2);
    assert.equal(body(take).holder, next.id);
  });

  it('hands the lease over within 3 s of its holder stopping, with a new fence', async () => {
    const holder = body(await from(a, 'GET', '/v1/leases/primary')).holder === a.id ? a : b;
    const other = holder === a ? b : a;
    const fence = body(await from(a, 'GET', '/v1/leases/primary')).fence;
    const stoppedAt = Date.now();
    await c.call('POST', `/v1/machines/${holder.id}/stop`);
    let took = 0;
    while (Date.now() - stoppedAt < 3000) {
      const r = await from(other, 'PUT', '/v1/self/leases/primary', { ttl: 10 });
      if (r.statusCode === 200) {
        took = Date.now() - stoppedAt;
        assert.equal(body(r).fence, fence + 1);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(took > 0 && took < 3000, `no takeover within 3 s (${took})`);
    assert.deepEqual((await c.store.getMachine(holder.id)).leases, []);
    await c.call('POST', `/v1/machines/${holder.id}/start`);
  });

  it('ends a lease on expiry (the coordinator sweeps it) and when its holder turns critical', async () => {
    const host = new CoordinatorApi(c.url, credential);
    await host.reportHealth(checked.id, 'passing');
    await until(() => shown(checked.id)?.health === 'passing', 5000);
    const r = await from(checked, 'PUT', '/v1/self/leases/leader', { ttl: 1 });
    assert.equal(r.statusCode, 200, r.body);
    await until(async () => (await c.store.getMachine(checked.id)).leases?.length === 0, 4000);
    assert.equal(body(await from(checked, 'GET', '/v1/leases/leader')).holder, null);
    assert.equal((await from(checked, 'PUT', '/v1/self/leases/leader', { ttl: 30 })).statusCode, 200);
    await host.reportHealth(checked.id, 'critical');
    assert.equal(body(await from(a, 'GET', '/v1/leases/leader')).holder, null);
    await until(() => shown(checked.id)?.leases?.length === 0, 5000);
    // a critical machine cannot take it back
    assert.equal((await from(checked, 'PUT', '/v1/self/leases/leader', { ttl: 30 })).statusCode, 409);
  });

  it('refuses bad lease names and TTLs with 400, and writes nothing', async () => {
    const rev = await c.store.rev();
    for (const [name, payload] of [
      ['Primary', { ttl: 5 }],
      ['-x', { ttl: 5 }],
      ['a_b', { ttl: 5 }],
      ['x'.repeat(64), { ttl: 5 }],
      ['ok', { ttl: 0 }],
      ['ok', { ttl: 301 }],
      ['ok', { ttl: 1.5 }],
      ['ok', { ttl: '5' }],
      ['ok', {}],
    ] as const) {
      const r = await from(a, 'PUT', `/v1/self/leases/${name}`, payload);
      assert.equal(r.statusCode, 400, `${name} ${JSON.stringify(payload)}: ${r.body}`);
      assert.ok(body(r).error.message.length > 10);
    }
    assert.equal((await from(a, 'GET', '/v1/leases/Bad_Name')).statusCode, 400);
    assert.equal(await c.store.rev(), rev);
  });

  it("scopes leases to the caller's app: another app's lease of the same name is its own", async () => {
    const w = await from(web, 'PUT', '/v1/self/leases/primary', { ttl: 10 });
    assert.equal(w.statusCode, 200, w.body);
    assert.equal(body(w).holder, web.id);
    assert.equal(body(w).fence, 1, "web's lease is not pg's");
    assert.notEqual(body(await from(a, 'GET', '/v1/leases/primary')).holder, web.id);
    // no route names another app or machine
    assert.equal((await from(web, 'PUT', `/v1/machines/${a.id}/leases/primary`, { ttl: 10 })).statusCode, 404);
    // a query naming another app is ignored: the caller's own app is read
    assert.equal(body(await from(web, 'GET', '/v1/leases/primary?app=pg')).holder, web.id);
    // the host credential cannot act for a machine of another host, nor read its leases
    const host = new CoordinatorApi(c.url, credential);
    await assert.rejects(host.acquireLease(theirs.id, 'primary', 10), (e: { status?: number }) => e.status === 403);
    await assert.rejects(host.readLease(theirs.id, 'primary'), (e: { status?: number }) => e.status === 403);
    // an org token of another org cannot read pg's leases
    await c.call('POST', '/v1/orgs', { name: 'evil' });
    const evil = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'evil' })).json.token as string;
    assert.equal((await c.call('GET', `/v1/machines/${a.id}/leases/primary`, undefined, evil)).status, 403);
    // and the machine API refuses callers that are not its machines
    assert.equal((await api.inject({ method: 'PUT', url: '/v1/self/leases/primary', remoteAddress: theirs.address, payload: { ttl: 5 } })).statusCode, 403);
  });

  it('makes metadata writes conditional with If-Match (412 when stale)', async () => {
    const get = await from(b, 'GET', '/v1/self/metadata');
    const tag = get.headers.etag as string;
    assert.match(tag, /^"\d+"$/);
    const ok = await from(b, 'PUT', '/v1/self/metadata/role', { value: 'primary' }, { 'if-match': tag });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.notEqual(ok.headers.etag, tag);
    const stale = await from(b, 'PUT', '/v1/self/metadata/role', { value: 'deposed' }, { 'if-match': tag });
    assert.equal(stale.statusCode, 412, stale.body);
    assert.equal(body(stale).error.code, 'precondition_failed');
    assert.equal((await c.store.getMachine(b.id)).metadata.role, 'primary');
    assert.equal((await from(b, 'DELETE', '/v1/self/metadata/role', undefined, { 'if-match': tag })).statusCode, 412);
    assert.equal((await from(b, 'PUT', '/v1/self/metadata/role', { value: 'x' }, { 'if-match': 'nonsense' })).statusCode, 400);
    // unconditional writes still work
    assert.equal((await from(b, 'PUT', '/v1/self/metadata/role', { value: 'replica' })).statusCode, 200);
  });

  it("streams the app's machines, then each change, as NDJSON", async () => {
    await api.listen({ host: '127.0.0.1', port: 0 });
    const port = (api.server.address() as AddressInfo).port;
    // the machine API identifies the caller by source: inject cannot stream, so ask the replica-backed route through a real socket as `a`
    const lines: any[] = [];
    // a real socket comes from 127.0.0.1, which is no machine: expect 403 there
    const refused = await new Promise<number>((resolve) =>
      request({ host: '127.0.0.1', port, path: '/v1/machines/watch' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end(),
    );
    assert.equal(refused, 403);
    // as a machine (inject streams the hijacked response once it ends): read the snapshot, then a change
    const pending = api.inject({ method: 'GET', url: '/v1/machines/watch', remoteAddress: a.address, payloadAsStream: true });
    const res = await pending;
    assert.equal(res.statusCode, 200);
    const stream = res.stream();
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    await until(() => lines.length >= 1, 3000);
    assert.equal(lines[0].type, 'snapshot');
    const ids = lines[0].machines.map((m: { id: string }) => m.id).sort();
    assert.deepEqual(ids, [a.id, b.id, checked.id, theirs.id].sort(), "only the caller's app");
    assert.deepEqual(Object.keys(lines[0].machines[0]).sort(), ['address', 'group', 'health', 'id', 'leases', 'metadata', 'region', 'state']);
    await c.call('POST', `/v1/machines/${theirs.id}/stop`);
    await until(() => lines.some((l) => l.type === 'change' && l.machine.id === theirs.id && l.machine.state === 'stopped'), 3000);
    await c.call('DELETE', `/v1/machines/${theirs.id}`);
    await until(() => lines.some((l) => l.type === 'change' && l.machine.id === theirs.id && l.machine.state === 'destroyed'), 3000);
    assert.ok(!lines.some((l) => l.type === 'change' && l.machine.id === web.id), "no other app's changes");
    stream.destroy();
  });
});
