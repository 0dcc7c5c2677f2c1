// The dashboard's routes on a real socket: the page and its assets with a
// strict CSP, who may open the stream, and the stream's bytes scoped to the
// token (another org's writes never show, not even as a delete), gateway
// reports as they move, and a revoked token's stream ending.
import assert from 'node:assert/strict';
import { KEY_A, KEY_B, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { openLines, type LineStream } from '../../testkit/lines.js';
import { until } from '../../testkit/until.js';

async function openStream(url: string, token: string): Promise<LineStream> {
  const s = await openLines(`${url}/v1/ui/stream`, token);
  assert.equal(s.contentType, 'application/x-ndjson');
  return s;
}

describe('dashboard routes and stream (/ui, /v1/ui/stream)', function () {
  this.timeout(30_000);
  let c: TestCoordinator;
  const tok: Record<string, string> = {};
  let gateway: { id: number; credential: string };

  before(async () => {
    c = await testCoordinator({ heartbeatMs: 500 });
    await c.listen();
    for (const org of ['acme', 'rival']) assert.equal((await c.call('POST', '/v1/orgs', { name: org })).status, 201);
    const h = await c.call('POST', '/v1/hosts', { region: 'ams', endpoint: '127.0.0.1:51820', public_key: KEY_A, gateway: true });
    gateway = { id: h.json.host.id, credential: h.json.credential };
    tok.acme = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json.token;
    tok.rival = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'rival' })).json.token;
    tok.ci = (await c.call('POST', '/v1/tokens', { scope: 'wireguard', org: 'acme' })).json.token;
    await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
    await c.call('POST', '/v1/apps', { name: 'rivalapp', org: 'rival' });
    await c.call('POST', '/v1/machines', { app: 'rivalapp', region: 'ams' });
  });
  after(async () => {
    await c.close();
  });

  it('serves the page and its assets with a strict content security policy', async () => {
    const page = await fetch(`${c.url}/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(page.headers.get('content-security-policy')!, /connect-src 'self'/);
    const html = await page.text();
    assert.match(html, /src="ui\/app\.js"/);
    for (const [file, type] of [
      ['app.js', /javascript/],
      ['app.css', /css/],
      ['land.svg', /svg/],
    ] as const) {
      const r = await fetch(`${c.url}/ui/${file}`);
      assert.equal(r.status, 200, file);
      assert.match(r.headers.get('content-type')!, type);
    }
    assert.equal((await fetch(`${c.url}/ui/../package.json`)).status, 404);
    assert.equal((await fetch(`${c.url}/ui/nope.js`)).status, 404);
    const slash = await fetch(`${c.url}/ui/`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get('location'), '/ui');
  });

  it('the stream needs an admin, reader or org token', async () => {
    const none = await fetch(`${c.url}/v1/ui/stream`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.message, 'missing bearer token');
    const bad = await fetch(`${c.url}/v1/ui/stream`, { headers: { authorization: 'Bearer sixpn_org_nope' } });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json()).error.message, 'unknown or revoked token');
    const ci = await fetch(`${c.url}/v1/ui/stream`, { headers: { authorization: `Bearer ${tok.ci}` } });
    assert.equal(ci.status, 403);
    assert.match((await ci.json()).error.message, /a wireguard token cannot do this/);
    const host = await fetch(`${c.url}/v1/ui/stream`, { headers: { authorization: `Bearer ${gateway.credential}` } });
    assert.equal(host.status, 403);
  });

  it("an org token's stream carries its org and never another's", async () => {
    const s = await openStream(c.url, tok.acme!);
    await until(() => s.lines().some((l) => l.type === 'snapshot'));
    const [hello, snap] = s.lines();
    assert.deepEqual(hello, { type: 'hello', scope: 'org', org: 'acme' });
    assert.deepEqual(
      snap.state.orgs.map((o: { name: string }) => o.name),
      ['acme'],
    );
    assert.deepEqual(snap.state.hosts, [], 'no host carries anything of acme yet');

    const rm = (await c.call('POST', '/v1/machines', { app: 'rivalapp', region: 'ams' }, tok.rival)).json.machine;
    await c.call('POST', `/v1/machines/${rm.id}/stop`, undefined, tok.rival);
    await c.call('POST', '/v1/orgs/rival/peers', { name: 'rivalpeer', region: 'ams', public_key: KEY_B }, tok.rival);
    await c.call('DELETE', '/v1/orgs/rival/peers/rivalpeer', undefined, tok.rival);
    const mine = (await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' }, tok.acme)).json.machine;
    await until(() => s.raw().includes(mine.id));
    s.stop();
    await s.ended;

    assert.ok(!s.raw().includes('rival'), 'not a byte of the other org');
    assert.ok(!s.raw().includes(rm.id));
    const change = s.lines().find((l) => l.type === 'change');
    assert.deepEqual(
      change.ops.map((o: { entity: string }) => o.entity),
      ['host', 'machine'],
      'the host is shown with the first machine on it',
    );
    assert.equal(change.ops[0].data.id, gateway.id);
  });

  it('admin sees every org', async () => {
    const s = await openStream(c.url, c.admin);
    await until(() => s.lines().some((l) => l.type === 'snapshot'));
    s.stop();
    await s.ended;
    const snap = s.lines().find((l) => l.type === 'snapshot');
    assert.deepEqual(snap.state.orgs.map((o: { name: string }) => o.name).sort(), ['acme', 'rival']);
  });

  it('a change goes out as shared bytes only to the streams that may see all of it', async () => {
    const admin = await openStream(c.url, c.admin);
    const acme = await openStream(c.url, tok.acme!);
    const rival = await openStream(c.url, tok.rival!);
    for (const s of [admin, acme, rival]) await until(() => s.lines().some((l) => l.type === 'snapshot'));
    // acme's machine lands on a host acme's stream already shows: the whole change is in its scope.
    const mine = (await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' }, tok.acme)).json.machine;
    const theirs = (await c.call('POST', '/v1/machines', { app: 'rivalapp', region: 'ams' }, tok.rival)).json.machine;
    await until(() => admin.raw().includes(theirs.id) && acme.raw().includes(mine.id) && rival.raw().includes(theirs.id));
    for (const s of [admin, acme, rival]) s.stop();
    await Promise.all([admin.ended, acme.ended, rival.ended]);
    const lineWith = (s: LineStream, id: string): string | undefined =>
      s
        .raw()
        .split('\n')
        .find((l) => l.includes(id));
    assert.equal(lineWith(acme, mine.id), lineWith(admin, mine.id), "acme's line is byte for byte the admin's");
    assert.equal(lineWith(rival, theirs.id), lineWith(admin, theirs.id), "rival's line is byte for byte the admin's");
    assert.ok(!acme.raw().includes(theirs.id) && !acme.raw().includes('rival'), 'not a byte of rival on acme');
    assert.ok(!rival.raw().includes(mine.id) && !rival.raw().includes('acme'), 'not a byte of acme on rival');
  });

  it("gateway reports on the org's peers arrive as they move", async () => {
    await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'ams', public_key: KEY_B }, tok.acme);
    const s = await openStream(c.url, tok.acme!);
    await until(() => s.lines().some((l) => l.type === 'snapshot'));
    assert.deepEqual(s.lines().find((l) => l.type === 'snapshot').peer_status, { 'acme/laptop': null });
    const res = await fetch(`${c.url}/v1/hosts/${gateway.id}/peer-status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${gateway.credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ peers: [{ org: 'acme', name: 'laptop', latest_handshake: 1700000000, rx_bytes: 10, tx_bytes: 20, endpoint: '127.0.0.1:4000' }] }),
    });
    assert.equal(res.status, 204);
    await until(() => s.lines().some((l) => l.type === 'peer_status'), 10_000);
    s.stop();
    await s.ended;
    const st = s.lines().find((l) => l.type === 'peer_status').status['acme/laptop'];
    assert.equal(st.latest_handshake, 1700000000);
    assert.equal(st.rx_bytes, 10);
  });

  it('a revoked token ends its stream with an error line', async () => {
    const t = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json;
    const s = await openStream(c.url, t.token);
    await until(() => s.lines().some((l) => l.type === 'snapshot'));
    assert.equal((await c.call('DELETE', `/v1/tokens/${t.id}`)).status, 200);
    await s.ended; // the server ends it
    assert.deepEqual(s.lines().at(-1), { type: 'error', code: 'unauthorized', message: 'the token was revoked' });
  });
});
