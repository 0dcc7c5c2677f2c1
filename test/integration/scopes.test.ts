// The credential matrix of docs/security.md: for every non-admin scope, what
// it may do (a control) and what an attacker holding it tries next, refused.
import assert from 'node:assert/strict';
import type { Machine } from '../../src/model/types.js';
import { generateKeyPair } from '../../src/wg/keys.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';

type Probe = [method: string, path: string, body: unknown, status: number];

describe('scopes: each credential reaches what it is for and nothing further', function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  const tok: Record<string, string> = {};
  let h1 = 0,
    h2 = 0;
  let web: Machine, gx: Machine;
  let orgTokenId = '';
  let globexTokenId = '';
  let adminTokenId = '';

  before(async () => {
    c = await testCoordinator();
    for (const [org, app] of [
      ['acme', 'web'],
      ['globex', 'gx'],
    ]) {
      assert.equal((await c.call('POST', '/v1/orgs', { name: org })).status, 201);
      assert.equal((await c.call('POST', '/v1/apps', { name: app, org })).status, 201);
    }
    const a = await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: true });
    const b = await c.call('POST', '/v1/hosts', { region: 'ord', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: true });
    [h1, h2] = [a.json.host.id, b.json.host.id];
    tok.host = a.json.credential;
    web = (await c.call('POST', '/v1/machines', { app: 'web', region: 'iad' })).json.machine;
    gx = (await c.call('POST', '/v1/machines', { app: 'gx', region: 'ord' })).json.machine;
    assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'lap', region: 'iad', public_key: KEY_C })).status, 201);
    const orgTok = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json;
    [tok.org, orgTokenId] = [orgTok.token, orgTok.id];
    tok.wireguard = (await c.call('POST', '/v1/tokens', { scope: 'wireguard', org: 'acme' })).json.token;
    tok.reader = (await c.call('POST', '/v1/tokens', { scope: 'reader' })).json.token;
    tok.enroll = (await c.call('POST', '/v1/tokens', { scope: 'host-enroll' })).json.token;
    globexTokenId = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'globex' })).json.id;
    adminTokenId = (await c.call('GET', '/v1/tokens')).json.tokens.find((t: { scope: string }) => t.scope === 'admin').id;
  });
  after(async () => {
    await c.close();
  });

  const newHost = () => ({ region: 'iad', endpoint: '192.0.2.9:51820', public_key: generateKeyPair().publicKey });
  const status = { peers: [] };

  const MATRIX: Record<string, () => Probe[]> = {
    org: () => [
      ['GET', `/v1/machines/${web.id}`, undefined, 200],
      ['GET', '/v1/orgs/acme', undefined, 200],
      ['GET', `/v1/machines/${gx.id}`, undefined, 403],
      ['PUT', `/v1/machines/${gx.id}/metadata/role`, { value: 'x' }, 403],
      ['PUT', `/v1/machines/${web.id}/status`, { state: 'failed' }, 403],
      ['POST', '/v1/apps', { name: 'sneak', org: 'globex' }, 403],
      ['GET', '/v1/orgs/globex/peers', undefined, 403],
      ['POST', '/v1/orgs', { name: 'mine' }, 403],
      ['GET', '/v1/hosts', undefined, 403],
      ['POST', '/v1/hosts', newHost(), 403],
      ['PATCH', `/v1/hosts/${h1}`, { endpoint: '203.0.113.1:51820' }, 403],
      ['PUT', `/v1/hosts/${h1}/peer-status`, status, 403],
      ['POST', '/v1/tokens', { scope: 'admin' }, 403],
      ['POST', '/v1/tokens', { scope: 'reader' }, 403],
      ['POST', '/v1/tokens', { scope: 'org', org: 'globex' }, 403],
      // Issue 11: an org token revokes its own org's tokens only; another org's, or an admin's, is not found (404).
      ['DELETE', `/v1/tokens/${globexTokenId}`, undefined, 404],
      ['DELETE', `/v1/tokens/${adminTokenId}`, undefined, 404],
      ['GET', '/v1/tokens?org=globex', undefined, 403],
      ['GET', '/v1/watch', undefined, 403],
    ],
    wireguard: () => [
      ['GET', '/v1/orgs/acme/peers', undefined, 200],
      ['GET', '/v1/orgs/globex/peers', undefined, 403],
      ['POST', '/v1/orgs/globex/peers', { name: 'x', region: 'iad', public_key: generateKeyPair().publicKey }, 403],
      ['GET', '/v1/orgs/acme', undefined, 403],
      ['POST', '/v1/apps', { name: 'w', org: 'acme' }, 403],
      ['GET', `/v1/machines/${web.id}`, undefined, 403],
      ['POST', '/v1/machines', { app: 'web', region: 'iad' }, 403],
      ['POST', '/v1/tokens', { scope: 'wireguard', org: 'acme' }, 403],
      ['GET', '/v1/tokens', undefined, 403],
      ['DELETE', `/v1/tokens/${orgTokenId}`, undefined, 403],
      ['POST', '/v1/orgs/acme/peers', { name: 'y', region: 'iad', public_key: generateKeyPair().publicKey, app: 'web' }, 403],
      ['GET', '/v1/watch', undefined, 403],
      ['GET', '/v1/ui/stream', undefined, 403],
    ],
    reader: () => [
      ['GET', '/v1/regions', undefined, 200],
      ['POST', '/v1/orgs', { name: 'mine' }, 403],
      ['POST', '/v1/machines', { app: 'web', region: 'iad' }, 403],
      ['PUT', `/v1/machines/${web.id}/metadata/role`, { value: 'x' }, 403],
      ['POST', '/v1/orgs/acme/peers', { name: 'x', region: 'iad', public_key: generateKeyPair().publicKey }, 403],
      ['DELETE', '/v1/orgs/acme/peers/lap', undefined, 403],
      ['POST', '/v1/tokens', { scope: 'reader' }, 403],
      ['GET', '/v1/tokens', undefined, 403],
      ['GET', '/v1/hosts', undefined, 403],
      ['POST', '/v1/hosts', newHost(), 403],
    ],
    enroll: () => [
      ['GET', '/v1/regions', undefined, 200],
      ['GET', '/v1/hosts', undefined, 403],
      ['GET', `/v1/hosts/${h1}`, undefined, 403],
      ['PATCH', `/v1/hosts/${h1}`, { endpoint: '203.0.113.1:51820' }, 403],
      ['PUT', `/v1/hosts/${h1}/peer-status`, status, 403],
      ['GET', '/v1/orgs', undefined, 403],
      ['GET', '/v1/machines?app=web', undefined, 403],
      ['POST', '/v1/machines', { app: 'web', region: 'iad' }, 403],
      ['GET', '/v1/orgs/acme/peers', undefined, 403],
      ['POST', '/v1/tokens', { scope: 'host-enroll' }, 403],
      ['GET', '/v1/watch', undefined, 403],
    ],
    host: () => [
      ['GET', `/v1/hosts/${h1}`, undefined, 200],
      ['GET', `/v1/machines/${web.id}`, undefined, 200],
      ['GET', `/v1/hosts/${h2}`, undefined, 403],
      ['PATCH', `/v1/hosts/${h2}`, { endpoint: '203.0.113.1:51820' }, 403],
      ['PATCH', `/v1/hosts/${h1}`, { gateway: false }, 403],
      ['PUT', `/v1/hosts/${h2}/peer-status`, status, 403],
      ['GET', `/v1/machines/${gx.id}`, undefined, 403],
      ['PUT', `/v1/machines/${gx.id}/metadata/role`, { value: 'x' }, 403],
      ['PUT', `/v1/machines/${gx.id}/status`, { state: 'failed' }, 403],
      ['POST', '/v1/machines', { app: 'web', region: 'iad' }, 403],
      ['POST', '/v1/hosts', newHost(), 403],
      ['GET', '/v1/hosts', undefined, 403],
      ['GET', '/v1/orgs', undefined, 403],
      ['POST', '/v1/orgs', { name: 'mine' }, 403],
      ['POST', '/v1/tokens', { scope: 'org', org: 'acme' }, 403],
      ['GET', '/v1/orgs/acme/peers', undefined, 403],
      ['GET', '/v1/ui/stream', undefined, 403],
    ],
  };

  for (const who of Object.keys(MATRIX)) {
    it(`${who} token: its own work answers 200, every step further 403 forbidden, and nothing changes`, async () => {
      const rev = await c.store.rev();
      let writes = 0;
      for (const [method, path, body, want] of MATRIX[who]!()) {
        const r = await c.call(method, path, body, tok[who]);
        assert.equal(r.status, want, `${who}: ${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
        if (want === 403) assert.equal(r.json.error.code, 'forbidden');
        if (want < 300 && method !== 'GET') writes++;
      }
      assert.equal(await c.store.rev(), rev + writes, `${who}: a refused request wrote something`);
      assert.deepEqual((await c.store.getMachine(gx.id)).metadata, {});
      assert.equal((await c.store.getMachine(web.id)).state, 'started');
    });
  }

  it('host token: reports on peers another gateway carries are ignored', async () => {
    const other = await c.call('POST', '/v1/hosts', newHost());
    const r = await c.call(
      'PUT',
      `/v1/hosts/${other.json.host.id}/peer-status`,
      { peers: [{ org: 'acme', name: 'lap', latest_handshake: 9, rx_bytes: 9, tx_bytes: 9, endpoint: null }] },
      other.json.credential,
    );
    assert.equal(r.status, 204);
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers/lap')).json.status, null, 'lap is carried by another gateway');
  });

  it("enroll token: enrolls a host (its one job), and the credential it gets is that host's only", async () => {
    const r = await c.call('POST', '/v1/hosts', newHost(), tok.enroll);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal((await c.call('GET', `/v1/hosts/${h1}`, undefined, r.json.credential)).status, 403);
    assert.equal((await c.call('GET', `/v1/hosts/${r.json.host.id}`, undefined, r.json.credential)).status, 200);
  });
});
