// Token scope and lifecycle against a real coordinator (SQLite, real HTTP):
// what a wireguard (CI) token may make, listing, expiry (401 token_expired),
// revocation and expiry ending open watch and dashboard streams within a
// second, org tokens kept to their own org, last use, and ephemeral peers
// that leave the feed when they expire. Then the CLI verbs as processes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenRecord } from '../../src/model/auth.js';
import type { ChangeOp } from '../../src/model/types.js';
import { openLines } from '../../testkit/lines.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { runCliIn } from '../../testkit/peers.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

const KEY_D = 'IfNkxn/moPvXjQboj3pPu5av7kf2yiSUIBvx5Sew8z0=';
const KEY_E = 't46ARUQnJn1ZmGOvbPZcvhw5MIzZGcdX1BiJCRYCcBg=';

describe('tokens: peer scope, lifecycle and streams', function () {
  this.timeout(60_000);
  let c: TestCoordinator;
  const create = async (body: Record<string, unknown>, token?: string) => (await c.call('POST', '/v1/tokens', body, token)).json;
  const peerCount = async (): Promise<number> => (await c.call('GET', '/v1/orgs/acme/peers')).json.peers.length;

  before(async () => {
    c = await testCoordinator();
    await c.listen();
    assert.equal((await c.call('POST', '/v1/hosts', { region: 'iad', endpoint: '192.0.2.10:51820', public_key: KEY_A, gateway: true })).status, 201);
    for (const org of ['acme', 'globex']) assert.equal((await c.call('POST', '/v1/orgs', { name: org })).status, 201);
    for (const [name, org] of [
      ['web', 'acme'],
      ['db', 'acme'],
      ['evil', 'globex'],
    ])
      await c.call('POST', '/v1/apps', { name, org });
  });
  after(() => c.close());

  describe('peer scope', () => {
    it('a plain wireguard (CI) token claiming "app": "db" gets 403 and nothing is written', async () => {
      const ci = (await create({ scope: 'wireguard', org: 'acme' })).token;
      const rev = await c.store.rev();
      for (const app of ['db', 'web']) {
        const r = await c.call('POST', '/v1/orgs/acme/peers', { name: 'ci', region: 'iad', public_key: KEY_B, app }, ci);
        assert.equal(r.status, 403, JSON.stringify(r.json));
        assert.equal(r.json.error.code, 'forbidden');
        assert.match(r.json.error.message, /creates plain peers only/);
      }
      assert.equal(await c.store.rev(), rev, 'no revision written');
      assert.equal(await peerCount(), 0);
      // A plain peer is what it is for.
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'ci', region: 'iad', public_key: KEY_B }, ci)).status, 201);
      // An org token may still make app peers; the CI token may not remove one.
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'dbpeer', region: 'iad', public_key: KEY_C, app: 'db' })).status, 201);
      const rm = await c.call('DELETE', '/v1/orgs/acme/peers/dbpeer', undefined, ci);
      assert.equal(rm.status, 403);
      assert.equal((await c.call('GET', '/v1/orgs/acme/peers/dbpeer')).status, 200, 'the db peer is untouched');
      assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/ci', undefined, ci)).status, 200);
      assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/dbpeer')).status, 200);
    });

    it("a wireguard token made for app db creates db peers and plain peers, never another app's", async () => {
      const t = await create({ scope: 'wireguard', org: 'acme', app: 'db' });
      assert.equal(t.app, 'db');
      const rev = await c.store.rev();
      const web = await c.call('POST', '/v1/orgs/acme/peers', { name: 'ci', region: 'iad', public_key: KEY_B, app: 'web' }, t.token);
      assert.equal(web.status, 403);
      assert.match(web.json.error.message, /made for app db, not web/);
      const evil = await c.call('POST', '/v1/orgs/globex/peers', { name: 'ci', region: 'iad', public_key: KEY_B, app: 'evil' }, t.token);
      assert.equal(evil.status, 403, 'not another org either');
      assert.equal(await c.store.rev(), rev, 'nothing written');
      const db = await c.call('POST', '/v1/orgs/acme/peers', { name: 'ci-db', region: 'iad', public_key: KEY_B, app: 'db' }, t.token);
      assert.equal(db.status, 201, JSON.stringify(db.json));
      assert.equal(db.json.peer.app, 'db');
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'ci-plain', region: 'iad', public_key: KEY_C }, t.token)).status, 201);
      // It removes what it could make, not a web peer.
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'webpeer', region: 'iad', public_key: KEY_D, app: 'web' })).status, 201);
      assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/webpeer', undefined, t.token)).status, 403);
      for (const n of ['ci-db', 'ci-plain']) assert.equal((await c.call('DELETE', `/v1/orgs/acme/peers/${n}`, undefined, t.token)).status, 200);
      await c.call('DELETE', '/v1/orgs/acme/peers/webpeer');
      // And it mints nothing.
      assert.equal((await c.call('POST', '/v1/tokens', { scope: 'wireguard', org: 'acme', app: 'web' }, t.token)).status, 403);
    });

    it('an app token needs a wireguard scope and an app of the same org', async () => {
      const globex = (await create({ scope: 'org', org: 'globex' })).token;
      const before = (await c.call('GET', '/v1/tokens')).json.tokens.length;
      const cases: [Record<string, unknown>, string | undefined, number][] = [
        [{ scope: 'wireguard', org: 'acme', app: 'evil' }, undefined, 404], // globex's app
        [{ scope: 'wireguard', org: 'acme', app: 'nope' }, undefined, 404],
        [{ scope: 'org', org: 'acme', app: 'db' }, undefined, 400],
        [{ scope: 'reader', app: 'db' }, undefined, 400],
        [{ scope: 'wireguard', org: 'acme', app: 'db' }, globex, 403], // another org's org token
      ];
      for (const [body, token, status] of cases) assert.equal((await c.call('POST', '/v1/tokens', body, token)).status, status, JSON.stringify(body));
      assert.equal((await c.call('GET', '/v1/tokens')).json.tokens.length, before, 'no token made');
    });
  });

  describe('lifecycle', () => {
    it('refuses a bad ttl with 400 and makes nothing', async () => {
      const before = (await c.call('GET', '/v1/tokens')).json.tokens.length;
      for (const ttl of [0, -5, 1.5, '10m', 366 * 86400]) {
        const r = await c.call('POST', '/v1/tokens', { scope: 'reader', ttl_seconds: ttl });
        assert.equal(r.status, 400, String(ttl));
        assert.equal(r.json.error.code, 'invalid');
      }
      assert.equal((await c.call('GET', '/v1/tokens')).json.tokens.length, before);
      const p = await c.call('POST', '/v1/orgs/acme/peers', { name: 'x', region: 'iad', public_key: KEY_E, ttl_seconds: 0 });
      assert.equal(p.status, 400);
    });

    it('an expired token gets 401 token_expired', async () => {
      const t = await create({ scope: 'org', org: 'acme', ttl_seconds: 1 });
      assert.ok(Date.parse(t.expires_at) - Date.now() <= 1000);
      assert.equal((await c.call('GET', '/v1/apps?org=acme', undefined, t.token)).status, 200);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(t.expires_at) - Date.now()) + 50));
      const r = await c.call('GET', '/v1/apps?org=acme', undefined, t.token);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'token_expired');
      assert.match(r.json.error.message, /expired at/);
    });

    it('a token made by an expiring token never outlives it', async () => {
      const maker = await create({ scope: 'org', org: 'acme', ttl_seconds: 600 });
      const inherited = await create({ scope: 'wireguard', org: 'acme' }, maker.token);
      assert.equal(inherited.expires_at, maker.expires_at);
      const longer = await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme', ttl_seconds: 3600 }, maker.token);
      assert.equal(longer.status, 400);
      assert.match(longer.json.error.message, /cannot outlive/);
    });

    it("lists tokens (never a secret); org tokens list and revoke their own org's only", async () => {
      const acme = await create({ scope: 'org', org: 'acme' });
      const globex = await create({ scope: 'org', org: 'globex' });
      const ci = await create({ scope: 'wireguard', org: 'globex', app: 'evil', ttl_seconds: 3600 });
      const all = await c.call('GET', '/v1/tokens');
      assert.equal(all.status, 200);
      assert.ok(!JSON.stringify(all.json).includes('sixpn_'), 'no secret');
      const row = (all.json.tokens as TokenRecord[]).find((t) => t.id === ci.id)!;
      assert.deepEqual(Object.keys(row).sort(), ['app', 'created_at', 'expires_at', 'host_id', 'id', 'last_used_at', 'org', 'scope']);
      assert.deepEqual([row.scope, row.org, row.app, row.expires_at], ['wireguard', 'globex', 'evil', ci.expires_at]);
      assert.ok(
        (all.json.tokens as TokenRecord[]).some((t) => t.scope === 'host' && t.host_id === 1),
        'host credentials too',
      );

      const mine = await c.call('GET', '/v1/tokens', undefined, acme.token);
      assert.equal(mine.status, 200);
      assert.ok(mine.json.tokens.length > 0);
      assert.ok(
        (mine.json.tokens as TokenRecord[]).every((t) => t.org === 'acme'),
        'only acme tokens',
      );
      assert.equal((await c.call('GET', '/v1/tokens?org=globex', undefined, acme.token)).status, 403);
      assert.ok(((await c.call('GET', '/v1/tokens?org=globex')).json.tokens as TokenRecord[]).every((t) => t.org === 'globex'));
      for (const scope of ['reader', 'host-enroll']) {
        assert.equal((await c.call('GET', '/v1/tokens', undefined, (await create({ scope })).token)).status, 403, scope);
      }
      assert.equal((await c.call('GET', '/v1/tokens', undefined, (await create({ scope: 'wireguard', org: 'acme' })).token)).status, 403);

      // Another org's token, the admin's, an unknown id: 404, and each still works.
      const adminId = (all.json.tokens as TokenRecord[]).find((t) => t.scope === 'admin')!.id;
      for (const id of [globex.id, ci.id, adminId, '000000000000']) {
        const r = await c.call('DELETE', `/v1/tokens/${id}`, undefined, acme.token);
        assert.equal(r.status, 404, id);
      }
      assert.equal((await c.call('GET', '/v1/apps?org=globex', undefined, globex.token)).status, 200, 'globex token untouched');
      assert.equal((await c.call('GET', '/v1/orgs')).status, 200, 'admin untouched');
      // Its own org's token: revoked.
      const own = await create({ scope: 'wireguard', org: 'acme' });
      assert.equal((await c.call('DELETE', `/v1/tokens/${own.id}`, undefined, acme.token)).status, 200);
      assert.equal((await c.call('GET', '/v1/orgs/acme/peers', undefined, own.token)).status, 401);
    });

    it('records last use at most once a minute', async () => {
      const t = await create({ scope: 'org', org: 'acme' });
      const lastUsed = async (): Promise<string | null> =>
        ((await c.call('GET', '/v1/tokens')).json.tokens as TokenRecord[]).find((x) => x.id === t.id)!.last_used_at;
      assert.equal(await lastUsed(), null);
      await c.call('GET', '/v1/apps?org=acme', undefined, t.token);
      await until(async () => (await lastUsed()) !== null, 5000);
      const first = await lastUsed();
      for (let i = 0; i < 5; i++) await c.call('GET', '/v1/apps?org=acme', undefined, t.token);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await lastUsed(), first, 'not written again within the minute');
    });
  });

  describe('streams end with their token', () => {
    const watchUrl = () => `${c.url}/v1/watch?since=0`;
    const uiUrl = () => `${c.url}/v1/ui/stream`;

    it("DELETE /v1/tokens/:id ends that token's watch and dashboard streams within a second, and no other", async () => {
      const reader = await create({ scope: 'reader' });
      const org = await create({ scope: 'org', org: 'acme' });
      const other = await create({ scope: 'reader' });
      const watch = await openLines(watchUrl(), reader.token);
      const ui = await openLines(uiUrl(), org.token);
      const bystander = await openLines(watchUrl(), other.token);
      await until(
        () =>
          watch.lines().some((l) => l.type === 'snapshot') &&
          ui.lines().some((l) => l.type === 'snapshot') &&
          bystander.lines().some((l) => l.type === 'snapshot'),
      );
      const t0 = Date.now();
      assert.equal((await c.call('DELETE', `/v1/tokens/${reader.id}`)).status, 200);
      assert.equal((await c.call('DELETE', `/v1/tokens/${org.id}`)).status, 200);
      const [wEnd, uEnd] = await Promise.all([watch.ended, ui.ended]);
      assert.ok(wEnd - t0 < 1000, `watch ended after ${wEnd - t0} ms`);
      assert.ok(uEnd - t0 < 1000, `dashboard stream ended after ${uEnd - t0} ms`);
      assert.deepEqual(watch.lines().at(-1), { type: 'error', code: 'unauthorized', message: 'the token was revoked' });
      assert.deepEqual(ui.lines().at(-1), { type: 'error', code: 'unauthorized', message: 'the token was revoked' });
      // The other reader still gets changes.
      await c.call('POST', '/v1/apps', { name: 'after', org: 'acme' });
      await until(() => bystander.lines().some((l) => l.type === 'change' && JSON.stringify(l.ops).includes('"after"')));
      bystander.stop();
    });

    it("a 2 s token's streams end within a second of its expiry (a timer, not a poll)", async () => {
      const reader = await create({ scope: 'reader', ttl_seconds: 2 });
      const org = await create({ scope: 'org', org: 'acme', ttl_seconds: 2 });
      const watch = await openLines(watchUrl(), reader.token);
      const ui = await openLines(uiUrl(), org.token);
      const [wEnd, uEnd] = await Promise.all([watch.ended, ui.ended]);
      const late = (end: number, t: { expires_at: string }) => end - Date.parse(t.expires_at);
      assert.ok(late(wEnd, reader) >= 0 && late(wEnd, reader) < 1000, `watch ended ${late(wEnd, reader)} ms after expiry`);
      assert.ok(late(uEnd, org) >= 0 && late(uEnd, org) < 1000, `dashboard ended ${late(uEnd, org)} ms after expiry`);
      assert.equal(watch.lines().at(-1).code, 'token_expired');
      assert.equal(ui.lines().at(-1).code, 'token_expired');
      assert.ok(
        watch.lines().some((l) => l.type === 'snapshot'),
        'it streamed until then',
      );
      const again = await fetch(watchUrl(), { headers: { authorization: `Bearer ${reader.token}` } });
      assert.equal(again.status, 401);
      assert.equal((await again.json()).error.code, 'token_expired');
    });
  });

  it('an ephemeral peer (ttl) leaves the feed as a normal delete when it expires', async () => {
    const feed = await openLines(`${c.url}/v1/watch?since=${await c.store.rev()}`, c.admin);
    const r = await c.call('POST', '/v1/orgs/acme/peers', { name: 'eph', region: 'iad', public_key: KEY_E, ttl_seconds: 2 });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const expires = Date.parse(r.json.peer.expires_at);
    assert.ok(expires - Date.now() <= 2000 && expires - Date.now() > 1000);
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers/eph')).json.peer.expires_at, r.json.peer.expires_at);
    const ops = (): ChangeOp[] =>
      feed
        .lines()
        .filter((l) => l.type === 'change')
        .flatMap((l) => l.ops);
    await until(() => ops().some((o) => o.entity === 'peer' && o.op === 'delete' && o.key === 'acme/eph'), 5000, 10);
    const gone = Date.now();
    assert.ok(gone - expires >= 0 && gone - expires < 1000, `removed ${gone - expires} ms after expiry`);
    assert.equal((await c.call('GET', '/v1/orgs/acme/peers/eph')).status, 404);
    assert.ok(ops().some((o) => o.entity === 'peer' && o.op === 'upsert' && o.data.name === 'eph' && o.data.expires_at === r.json.peer.expires_at));
    feed.stop();
  });

  describe('CLI (sixpn tokens, wireguard create --ttl)', () => {
    const dir = tempDir('sixpn-tokcli-');
    const env = { SIXPN_CONFIG: join(dir.path, 'no-such-cli.json'), HOME: dir.path };
    const cli = (token: string, ...args: string[]) => runCliIn(dir.path, [...args, '--api', c.url, '--token', token], env);
    after(() => dir.remove());

    it('tokens create --ttl and --app, tokens list as a table and as JSON', async () => {
      const made = await cli(c.admin, 'tokens', 'create', '--scope', 'wireguard', '--org', 'acme', '--app', 'db', '--ttl', '10m', '--json');
      assert.equal(made.code, 0, made.stderr);
      const t = JSON.parse(made.stdout);
      assert.equal(t.app, 'db');
      assert.ok(Math.abs(Date.parse(t.expires_at) - Date.now() - 600_000) < 10_000);
      const table = await cli(c.admin, 'tokens', 'list', '--org', 'acme');
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^ID\s+SCOPE\s+ORG\s+APP\s+HOST\s+CREATED\s+EXPIRES\s+LAST USED\n/);
      const line = table.stdout.split('\n').find((l) => l.startsWith(t.id))!;
      assert.match(line, new RegExp(`^${t.id}\\s+wireguard\\s+acme\\s+db\\s+-\\s+\\S+\\s+${t.expires_at.replace(/\./g, '\\.')}\\s+-$`));
      assert.ok(!table.stdout.includes('sixpn_'), 'no secret in the listing');
      const js = await cli(c.admin, 'tokens', 'list', '--json');
      assert.ok((JSON.parse(js.stdout) as TokenRecord[]).some((x) => x.id === t.id));
      // An org token lists its own org only, and cannot ask for another.
      const acme = (await create({ scope: 'org', org: 'acme' })).token;
      const own = JSON.parse((await cli(acme, 'tokens', 'list', '--json')).stdout) as TokenRecord[];
      assert.ok(own.length > 0 && own.every((x) => x.org === 'acme'));
      const other = await cli(acme, 'tokens', 'list', '--org', 'globex');
      assert.equal(other.code, 1);
      assert.match(other.stderr, /forbidden/);
    });

    const bad: string[][] = [
      ['tokens', 'create', '--scope', 'reader', '--ttl', '10'],
      ['tokens', 'create', '--scope', 'reader', '--ttl', '0s'],
      ['tokens', 'create', '--scope', 'reader', '--ttl', '10w'],
      ['tokens', 'create', '--scope', 'reader', '--ttl', '400d'],
      ['tokens', 'create', '--scope', 'org', '--org', 'acme', '--app', 'db'],
      ['tokens', 'list', '--org', 'Not_A_Label'],
      ['wireguard', 'create', 'acme', 'iad', 'tmp', '--ttl', '5y'],
    ];
    for (const args of bad) {
      it(`exits 2 with usage for: ${args.join(' ')}`, async () => {
        const before = (await c.call('GET', '/v1/tokens')).json.tokens.length;
        const r = await cli(c.admin, ...args);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /--ttl must be a duration like 90s, 10m, 24h or 30d, 1s\.\.365d|--app is only for --scope wireguard|not a DNS label/);
        assert.equal((await c.call('GET', '/v1/tokens')).json.tokens.length, before, 'nothing made');
      });
    }

    it('wireguard create --ttl makes an ephemeral peer', async () => {
      const r = await cli(c.admin, 'wireguard', 'create', 'acme', 'iad', 'brief', join(dir.path, 'brief.conf'), '--ttl', '90s');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^expires\s+\S+Z$/m);
      assert.ok(existsSync(join(dir.path, 'brief.conf')));
      const p = (await c.call('GET', '/v1/orgs/acme/peers/brief')).json.peer;
      assert.ok(Math.abs(Date.parse(p.expires_at) - Date.now() - 90_000) < 10_000);
      assert.equal((await c.call('DELETE', '/v1/orgs/acme/peers/brief')).status, 200);
    });
  });
});
