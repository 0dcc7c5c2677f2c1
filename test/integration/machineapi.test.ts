import assert from 'node:assert/strict';
import { Replica } from '../../src/feed/replica.js';
import { buildMachineApi, machineForSource } from '../../src/machineapi/server.js';
import { coordinatorWriter } from '../../src/machineapi/writer.js';
import { CoordinatorApi } from '../../src/client/api.js';
import { FeedClient } from '../../src/feed/client.js';
import type { Machine } from '../../src/model/types.js';
import { machineUpserted } from '../../src/model/changes.js';
import { KEY_A, KEY_B, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';

describe('machine API identity', () => {
  let c: TestCoordinator;
  const replica = new Replica();
  let a: Machine, b: Machine, elsewhere: Machine, other: Machine;
  let hostId: number;
  let api: ReturnType<typeof buildMachineApi>;

  before(async () => {
    c = await testCoordinator();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'pg', org: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    hostId = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json.host.id;
    a = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    b = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    other = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    await c.call('POST', '/v1/hosts', { region: 'ord', endpoint: '192.0.2.2:51820', public_key: KEY_B });
    elsewhere = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'ord' })).json.machine;
    const snap = await c.store.snapshot();
    replica.applySnapshot(snap.rev, snap.state);
    api = buildMachineApi({
      replica,
      hostId,
      writer: {
        set: async (id, k, v) => {
          const m = await c.store.setMachineMetadata(id, k, v);
          replica.applyChange({ rev: replica.rev + 1, at: '', ops: [machineUpserted(m)] });
          return m;
        },
      },
    });
  });
  after(async () => {
    await api.close();
    await c.close();
  });

  const from = (m: Machine | string, method: string, url: string, payload?: unknown) =>
    api.inject({
      method: method as 'GET',
      url,
      remoteAddress: typeof m === 'string' ? m : m.address,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('identifies the caller by its source address, on this host only', () => {
    const all = [...replica.machines.values()];
    assert.equal(machineForSource(all, hostId, a.address)?.id, a.id);
    assert.equal(machineForSource(all, hostId, a.address.toUpperCase())?.id, a.id);
    assert.equal(machineForSource(all, hostId, elsewhere.address), null, 'a machine of another host is not served here');
    assert.equal(machineForSource(all, hostId, '127.0.0.1'), null);
    assert.equal(machineForSource(all, hostId, undefined), null);
  });

  it('lets a machine set and delete its own metadata', async () => {
    const r = await from(a, 'PUT', '/v1/self/metadata/role', { value: 'primary' });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { role: 'primary' });
    assert.equal((await c.store.getMachine(a.id)).metadata.role, 'primary');
    const t = await api.inject({
      method: 'POST',
      url: `/v1/machines/${a.id}/metadata/zone`,
      remoteAddress: a.address,
      headers: { 'content-type': 'text/plain' },
      payload: 'east',
    });
    assert.equal(t.statusCode, 200, t.body);
    assert.equal(JSON.parse((await from(a, 'GET', '/v1/self/metadata/zone')).body).value, 'east');
    assert.equal((await from(a, 'DELETE', '/v1/self/metadata/zone')).statusCode, 200);
    assert.equal((await from(a, 'GET', '/v1/self/metadata/zone')).statusCode, 404);
  });

  it("refuses with 403 a request naming another machine's id", async () => {
    for (const [method, payload] of [
      ['PUT', { value: 'primary' }],
      ['POST', { value: 'primary' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await from(a, method, `/v1/machines/${b.id}/metadata/role`, payload);
      assert.equal(r.statusCode, 403, `${method}: ${r.body}`);
      assert.equal(JSON.parse(r.body).error.code, 'forbidden');
    }
    assert.deepEqual((await c.store.getMachine(b.id)).metadata, {});
  });

  it('refuses callers that are not machines of this host', async () => {
    assert.equal((await from('127.0.0.1', 'GET', '/v1/self')).statusCode, 403);
    assert.equal((await from(elsewhere, 'PUT', '/v1/self/metadata/role', { value: 'x' })).statusCode, 403);
  });

  it("lists only the caller's app's machines", async () => {
    const r = JSON.parse((await from(a, 'GET', '/v1/machines')).body);
    const ids = r.machines.map((m: Machine) => m.id).sort();
    assert.deepEqual(ids, [a.id, b.id, elsewhere.id].sort());
    assert.ok(!ids.includes(other.id));
  });

  it('validates keys and values', async () => {
    assert.equal((await from(a, 'PUT', '/v1/self/metadata/Bad%20Key', { value: 'x' })).statusCode, 400);
    assert.equal((await from(a, 'PUT', '/v1/self/metadata/role', { value: 'has space' })).statusCode, 400);
    assert.equal((await from(a, 'PUT', '/v1/self/metadata/role', { value: 'x'.repeat(256) })).statusCode, 400);
  });

  it("refuses reading another machine's metadata by id too", async () => {
    assert.equal((await from(a, 'GET', `/v1/machines/${b.id}/metadata`)).statusCode, 403);
    assert.equal((await from(a, 'GET', `/v1/machines/${b.id}/metadata/role`)).statusCode, 403);
    assert.equal((await from(a, 'GET', `/v1/machines/${a.id}/metadata`)).statusCode, 200);
  });

  it('takes the bodies curl sends: JSON, text/plain, and -d without a type (form-encoded)', async () => {
    const form = (payload: string) =>
      api.inject({
        method: 'PUT',
        url: '/v1/self/metadata/tier',
        remoteAddress: a.address,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
    assert.deepEqual(JSON.parse((await form('gold')).body).tier, 'gold');
    assert.deepEqual(JSON.parse((await form('value=silver')).body).tier, 'silver');
    assert.equal((await from(a, 'DELETE', '/v1/self/metadata/tier')).statusCode, 200);
  });
});

describe('machine API writes through the coordinator with the host credential', () => {
  let c: TestCoordinator;
  const replica = new Replica();
  let feed: FeedClient;
  let api: ReturnType<typeof buildMachineApi>;
  let mine: Machine, theirs: Machine;
  let credential: string;

  before(async () => {
    c = await testCoordinator();
    const url = await c.listen();
    await c.call('POST', '/v1/orgs', { name: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'pg', org: 'acme' });
    const host = (await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A })).json;
    await c.call('POST', '/v1/hosts', { region: 'ord', endpoint: '192.0.2.2:51820', public_key: KEY_B });
    mine = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'iad' })).json.machine;
    theirs = (await c.call('POST', '/v1/machines', { app: 'pg', region: 'ord' })).json.machine;
    credential = host.credential;
    feed = new FeedClient({ url, token: credential, replica });
    feed.start();
    api = buildMachineApi({ replica, hostId: host.host.id, writer: coordinatorWriter(new CoordinatorApi(url, credential), replica) });
    for (let i = 0; i < 250 && !replica.machines.has(mine.id); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(replica.machines.has(mine.id), 'the feed never delivered the machine');
  });
  after(async () => {
    await feed.stop();
    await api.close();
    await c.close();
  });

  it("answers once this host's replica shows the write (read-your-write for the machine and its DNS)", async () => {
    const r = await api.inject({ method: 'PUT', url: '/v1/self/metadata/role', remoteAddress: mine.address, payload: { value: 'primary' } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(replica.machines.get(mine.id)?.metadata.role, 'primary', 'replica not yet updated when the API answered');
    assert.equal(JSON.parse((await api.inject({ method: 'GET', url: '/v1/self/metadata/role', remoteAddress: mine.address })).body).value, 'primary');
    assert.equal((await c.store.getMachine(mine.id)).metadata.role, 'primary');
    const d = await api.inject({ method: 'DELETE', url: '/v1/self/metadata/role', remoteAddress: mine.address });
    assert.equal(d.statusCode, 200);
    assert.equal(replica.machines.get(mine.id)?.metadata.role, undefined);
  });

  it("the host credential itself cannot touch another host's machine", async () => {
    // (the machine API never asks for it: its caller is always a machine of this host)
    await assert.rejects(new CoordinatorApi(c.url, credential).setMetadata(theirs.id, 'role', 'primary'), (e: Error & { status?: number }) => e.status === 403);
    assert.deepEqual((await c.store.getMachine(theirs.id)).metadata, {});
  });

  it('answers 503 unavailable when the coordinator cannot be reached, and passes its refusals through', async () => {
    const put = async (writerApi: CoordinatorApi) => {
      const down = buildMachineApi({ replica, hostId: mine.host_id, writer: coordinatorWriter(writerApi, replica, 50) });
      try {
        return await down.inject({ method: 'PUT', url: '/v1/self/metadata/role', remoteAddress: mine.address, payload: { value: 'primary' } });
      } finally {
        await down.close();
      }
    };
    const unreachable = await put(new CoordinatorApi('http://127.0.0.1:1', credential));
    assert.equal(unreachable.statusCode, 503, unreachable.body);
    assert.equal(JSON.parse(unreachable.body).error.code, 'unavailable');
    const refused = await put(new CoordinatorApi(c.url, 'not-a-credential'));
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(JSON.parse(refused.body).error.code, 'unauthorized');
    assert.equal((await c.store.getMachine(mine.id)).metadata.role, undefined);
  });
});
