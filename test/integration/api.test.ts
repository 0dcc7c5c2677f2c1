import assert from 'node:assert/strict';
import { parseAddress } from '../../src/addr/plan.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';

describe('coordinator API', () => {
  let c: TestCoordinator;
  let hostCred: string;
  let hostId: number;
  before(async () => {
    c = await testCoordinator();
    assert.equal((await c.call('POST', '/v1/orgs', { name: 'acme' })).status, 201);
    assert.equal((await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' })).status, 201);
    const h = await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.10:51820', public_key: KEY_A, gateway: true });
    assert.equal(h.status, 201);
    hostCred = h.json.credential;
    hostId = h.json.host.id;
  });
  after(() => c.close());

  it('creates a machine on the region host with an address in the org network', async () => {
    const r = await c.call('POST', '/v1/machines', { app: 'web', region: 'iad', metadata: { role: 'primary' } });
    assert.equal(r.status, 201);
    const m = r.json.machine;
    assert.match(m.id, /^[0-9a-f]{14}$/);
    assert.equal(m.state, 'started');
    const p = parseAddress(m.address)!;
    assert.equal(p.networkId, m.network_id);
    assert.equal(p.hostId, hostId);
    assert.equal(p.suffix, 2);
    assert.equal(p.machineField.toString(16).padStart(8, '0'), m.id.slice(0, 8));
    assert.deepEqual(m.metadata, { role: 'primary' });
  });

  it('creates a stopped machine with --stopped and moves it through start/stop/destroy', async () => {
    const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad', stopped: true })).json.machine;
    assert.equal(m.state, 'created');
    assert.equal((await c.call('POST', `/v1/machines/${m.id}/start`)).json.machine.state, 'started');
    assert.equal((await c.call('POST', `/v1/machines/${m.id}/stop`)).json.machine.state, 'stopped');
    assert.equal((await c.call('DELETE', `/v1/machines/${m.id}`)).json.machine.state, 'destroyed');
    const again = await c.call('POST', `/v1/machines/${m.id}/start`);
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'conflict');
    const list = (await c.call('GET', '/v1/machines?app=web')).json.machines as { id: string }[];
    assert.ok(!list.some((x) => x.id === m.id), 'destroyed machines are not listed by default');
    const all = (await c.call('GET', '/v1/machines?app=web&all=true')).json.machines as { id: string }[];
    assert.ok(all.some((x) => x.id === m.id));
  });

  it('places machines on the least-loaded host of the region', async () => {
    const h2 = await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '[2001:db8::1]:51820', public_key: KEY_B });
    const placed = [];
    for (let i = 0; i < 4; i++) placed.push((await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine.host_id);
    // host 1 already carries one live machine, so the empty host gets the first and then they alternate
    assert.deepEqual(placed, [h2.json.host.id, hostId, h2.json.host.id, hostId]);
  });

  const bad: { name: string; method: string; url: string; body?: unknown; status: number; code: string }[] = [
    { name: 'org name not a label', method: 'POST', url: '/v1/orgs', body: { name: 'Acme' }, status: 400, code: 'invalid' },
    { name: 'org name too long', method: 'POST', url: '/v1/orgs', body: { name: 'a'.repeat(64) }, status: 400, code: 'invalid' },
    { name: 'org name leading dash', method: 'POST', url: '/v1/orgs', body: { name: '-x' }, status: 400, code: 'invalid' },
    { name: 'extra field', method: 'POST', url: '/v1/orgs', body: { name: 'x', admin: true }, status: 400, code: 'invalid' },
    { name: 'duplicate org', method: 'POST', url: '/v1/orgs', body: { name: 'acme' }, status: 409, code: 'conflict' },
    { name: 'duplicate app', method: 'POST', url: '/v1/apps', body: { name: 'web', org: 'acme' }, status: 409, code: 'conflict' },
    { name: 'app in unknown org', method: 'POST', url: '/v1/apps', body: { name: 'x', org: 'nope' }, status: 404, code: 'not_found' },
    { name: 'unknown region', method: 'POST', url: '/v1/machines', body: { app: 'web', region: 'zzz' }, status: 400, code: 'invalid' },
    { name: 'no host in region', method: 'POST', url: '/v1/machines', body: { app: 'web', region: 'syd' }, status: 422, code: 'no_host' },
    { name: 'unknown app', method: 'POST', url: '/v1/machines', body: { app: 'nope', region: 'iad' }, status: 404, code: 'not_found' },
    {
      name: 'bad metadata key',
      method: 'POST',
      url: '/v1/machines',
      body: { app: 'web', region: 'iad', metadata: { 'Bad Key': 'x' } },
      status: 400,
      code: 'invalid',
    },
    {
      name: 'malformed public key',
      method: 'POST',
      url: '/v1/hosts',
      body: { region: 'iad', endpoint: '1.2.3.4:1', public_key: 'abc' },
      status: 400,
      code: 'invalid',
    },
    {
      name: 'malformed endpoint',
      method: 'POST',
      url: '/v1/hosts',
      body: { region: 'iad', endpoint: 'no-port', public_key: KEY_C },
      status: 400,
      code: 'invalid',
    },
    {
      name: 'endpoint port out of range',
      method: 'POST',
      url: '/v1/hosts',
      body: { region: 'iad', endpoint: '1.2.3.4:70000', public_key: KEY_C },
      status: 400,
      code: 'invalid',
    },
    {
      name: 'duplicate host key',
      method: 'POST',
      url: '/v1/hosts',
      body: { region: 'iad', endpoint: '1.2.3.4:1', public_key: KEY_A },
      status: 409,
      code: 'conflict',
    },
    { name: 'bad machine id', method: 'GET', url: '/v1/machines/xyz', status: 400, code: 'invalid' },
    { name: 'unknown machine', method: 'GET', url: '/v1/machines/aaaaaaaaaaaaaa', status: 404, code: 'not_found' },
    { name: 'unknown route', method: 'GET', url: '/v1/nothing', status: 404, code: 'not_found' },
    {
      name: 'peer name over 15 chars',
      method: 'POST',
      url: '/v1/orgs/acme/peers',
      body: { name: 'a'.repeat(16), region: 'iad', public_key: KEY_C },
      status: 400,
      code: 'invalid',
    },
    { name: 'bad watch revision', method: 'GET', url: '/v1/watch?since=-1', status: 400, code: 'invalid' },
  ];
  for (const b of bad) {
    it(`rejects ${b.name} with ${b.status}, writing nothing`, async () => {
      const before = await c.store.rev();
      const r = await c.call(b.method, b.url, b.body);
      assert.equal(r.status, b.status, JSON.stringify(r.json));
      assert.equal(r.json.error.code, b.code);
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(await c.store.rev(), before);
    });
  }

  it('rejects a body over 64 KiB with 413', async () => {
    const r = await c.call('POST', '/v1/orgs', { name: 'big', pad: 'x'.repeat(70 * 1024) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'too_large');
  });

  it('needs a token (401) and the right scope (403)', async () => {
    assert.equal((await c.call('GET', '/v1/orgs', undefined, null)).status, 401);
    assert.equal((await c.call('GET', '/v1/orgs', undefined, 'sixpn_admin_nope')).json.error.code, 'unauthorized');
    const reader = (await c.call('POST', '/v1/tokens', { scope: 'reader' })).json.token;
    const r = await c.call('POST', '/v1/orgs', { name: 'x' }, reader);
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'forbidden');
  });

  it('scopes org tokens to their org', async () => {
    await c.call('POST', '/v1/orgs', { name: 'other' });
    await c.call('POST', '/v1/apps', { name: 'other-web', org: 'other' });
    const t = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json.token;
    assert.equal((await c.call('GET', '/v1/machines?app=web', undefined, t)).status, 200);
    assert.equal((await c.call('GET', '/v1/machines?app=other-web', undefined, t)).status, 403);
    assert.equal((await c.call('POST', '/v1/apps', { name: 'sneaky', org: 'other' }, t)).status, 403);
    assert.equal((await c.call('POST', '/v1/tokens', { scope: 'admin' }, t)).status, 403);
  });

  it('lets a host report only its own machines', async () => {
    const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    const own = m.host_id === hostId;
    const r = await c.call('PUT', `/v1/machines/${m.id}/status`, { state: 'failed', reason: 'veth: no such device' }, hostCred);
    if (own) {
      assert.equal(r.status, 200);
      assert.equal(r.json.machine.state, 'failed');
      assert.equal(r.json.machine.reason, 'veth: no such device');
    } else assert.equal(r.status, 403);
    assert.equal((await c.call('POST', '/v1/orgs', { name: 'y' }, hostCred)).status, 403);
  });

  it('lets a host move its own endpoint, not that of another host', async () => {
    const r = await c.call('PATCH', `/v1/hosts/${hostId}`, { endpoint: '192.0.2.99:51820' }, hostCred);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.host.endpoint, '192.0.2.99:51820');
    assert.equal((await c.call('PATCH', `/v1/hosts/${hostId}`, { endpoint: 'nope' }, hostCred)).status, 400);
    assert.equal((await c.call('PATCH', `/v1/hosts/${hostId}`, { gateway: false }, hostCred)).status, 403);
    assert.equal((await c.call('PATCH', `/v1/hosts/${hostId + 1}`, { endpoint: '192.0.2.98:1' }, hostCred)).status, 403);
  });

  it('sets and deletes machine metadata', async () => {
    const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    assert.equal((await c.call('PUT', `/v1/machines/${m.id}/metadata/role`, { value: 'replica' })).json.machine.metadata.role, 'replica');
    assert.deepEqual((await c.call('GET', `/v1/machines/${m.id}/metadata`)).json.metadata, { role: 'replica' });
    assert.deepEqual((await c.call('DELETE', `/v1/machines/${m.id}/metadata/role`)).json.machine.metadata, {});
    assert.equal((await c.call('DELETE', `/v1/machines/${m.id}/metadata/role`)).status, 404);
    assert.equal((await c.call('PUT', `/v1/machines/${m.id}/metadata/role`, { value: 'has space' })).status, 400);
  });

  it('creates custom networks with apps that get their own /48', async () => {
    const r = await c.call('POST', '/v1/apps', { name: 'secret', org: 'acme', network: 'vault' });
    assert.equal(r.status, 201);
    const org = (await c.call('GET', '/v1/orgs/acme')).json;
    const def = org.networks.find((n: { name: string }) => n.name === 'default');
    assert.notEqual(r.json.app.network_id, def.id);
  });

  it('registers developer peers on a gateway of the region, and names the nearest gateways otherwise', async () => {
    const r = await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'iad', public_key: KEY_C });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.gateway.public_key, KEY_A);
    assert.match(r.json.peer.address, /:0:1:2$/);
    assert.match(r.json.dns, /::3$/);
    assert.match(r.json.allowed_ips, /::\/48$/);
    const far = await c.call('POST', '/v1/orgs/acme/peers', { name: 'far', region: 'syd', public_key: KEY_B });
    assert.equal(far.status, 422);
    assert.match(far.json.error.message, /nearest gateways: iad/);
    const dup = await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'iad', public_key: KEY_B });
    assert.equal(dup.status, 409);
    const wg = (await c.call('POST', '/v1/tokens', { scope: 'wireguard', org: 'acme' })).json.token;
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers', undefined, wg)).json.peers.length, 1);
    assert.equal((await c.call('GET', '/v1/machines?app=web', undefined, wg)).status, 403);
    assert.equal((await c.call('GET', '/v1/orgs/other/peers', undefined, wg)).status, 403);
    assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/laptop', undefined, wg)).status, 200);
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers/laptop', undefined, wg)).status, 404);
  });

  it('revokes tokens', async () => {
    const t = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json;
    assert.equal((await c.call('GET', '/v1/apps?org=acme', undefined, t.token)).status, 200);
    assert.equal((await c.call('DELETE', `/v1/tokens/${t.id}`)).status, 200);
    assert.equal((await c.call('GET', '/v1/apps?org=acme', undefined, t.token)).status, 401);
  });
});
