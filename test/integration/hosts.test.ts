// Hosts lifecycle against an in-process coordinator (real SQLite, real HTTP):
// idempotent enrollment (same key → same host, fresh credential, old one
// refused), removal (credential refused, peers dropped from the feed,
// machines `lost` and out of DNS answers, a gateway's developer peers only
// with force), heartbeats and the host timeout (unreachable hosts get no new
// machines or peers), and the agent's enrollment retrying through a lost
// reply or a conflict instead of exiting.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveIdentity } from '../../src/agent/identity.js';
import { StateDir } from '../../src/agent/statedir.js';
import { CoordinatorApi } from '../../src/client/api.js';
import { QTYPE } from '../../src/dns/names.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import { silentLogger } from '../../src/log.js';
import { generateKeyPair } from '../../src/wg/keys.js';
import { KEY_A, KEY_B, KEY_C, testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';
import { buildQuery, decode, udpExchange } from '../../testkit/dns-packets.js';
import { runCliIn } from '../../testkit/peers.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hosts lifecycle', function () {
  this.timeout(30_000);

  describe('enrollment is idempotent', () => {
    let c: TestCoordinator;
    let enroll: string;
    before(async () => {
      c = await testCoordinator();
      enroll = (await c.call('POST', '/v1/tokens', { scope: 'host-enroll' })).json.token;
    });
    after(() => c.close());

    it('the same key again answers the same host and a fresh credential; the old one is refused', async () => {
      const body = { region: 'ams', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: true };
      const first = await c.call('POST', '/v1/hosts', body, enroll);
      assert.equal(first.status, 201, JSON.stringify(first.json));
      const rev = await c.store.rev();
      const again = await c.call('POST', '/v1/hosts', body, enroll);
      assert.equal(again.status, 200, JSON.stringify(again.json));
      assert.equal(again.json.host.id, first.json.host.id);
      assert.notEqual(again.json.credential, first.json.credential);
      assert.equal(await c.store.rev(), rev, 'nothing in the record changed: no revision');
      assert.equal((await c.call('GET', `/v1/hosts/${first.json.host.id}`, undefined, first.json.credential)).status, 401, 'old credential revoked');
      assert.equal((await c.call('GET', `/v1/hosts/${first.json.host.id}`, undefined, again.json.credential)).status, 200);
      const listed = (await c.call('GET', '/v1/hosts')).json.hosts;
      assert.equal(listed.length, 1);
      assert.match(listed[0].credential_id, /^[0-9a-f]{12}$/, 'the credential id is kept on the host');
      // Revoking that id by hand refuses the live credential: it is the right id.
      assert.equal((await c.call('DELETE', `/v1/tokens/${listed[0].credential_id}`)).status, 200);
      assert.equal((await c.call('GET', `/v1/hosts/${first.json.host.id}`, undefined, again.json.credential)).status, 401);
    });

    it('another endpoint for a key still heard from, or another region, is a conflict that revokes nothing', async () => {
      const body = { region: 'fra', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: false };
      const first = await c.call('POST', '/v1/hosts', body, enroll);
      assert.equal(first.status, 201);
      const hijack = await c.call('POST', '/v1/hosts', { ...body, endpoint: '203.0.113.66:51820' }, enroll);
      assert.equal(hijack.status, 409, JSON.stringify(hijack.json));
      assert.match(hijack.json.error.message, /already enrolled and reachable \(host \d+ at 192\.0\.2\.2:51820/);
      const promote = await c.call('POST', '/v1/hosts', { ...body, gateway: true }, enroll);
      assert.equal(promote.status, 409, 'an enroll token does not turn a live host into a gateway');
      const moved = await c.call('POST', '/v1/hosts', { ...body, region: 'ams' }, enroll);
      assert.equal(moved.status, 409);
      assert.match(moved.json.error.message, /in region fra/);
      assert.equal((await c.call('GET', `/v1/hosts/${first.json.host.id}`, undefined, first.json.credential)).status, 200, 'the live credential still works');
      const h = (await c.call('GET', `/v1/hosts/${first.json.host.id}`)).json.host;
      assert.equal(h.endpoint, '192.0.2.2:51820');
      assert.equal(h.gateway, false);
    });

    it('the agent takes a re-enrollment after a lost reply as success (same id, the old credential refused)', async () => {
      const dir = tempDir('sixpn-hosts-agent-');
      try {
        const state = new StateDir(join(dir.path, 'state'));
        const { privateKey, publicKey } = generateKeyPair();
        state.savePrivateKey(privateKey);
        // The coordinator committed this enrollment but the agent never saw the answer.
        const lost = await c.call('POST', '/v1/hosts', { region: 'syd', endpoint: '192.0.2.9:51820', public_key: publicKey }, enroll);
        assert.equal(lost.status, 201);
        if (!c.url) await c.listen();
        const id = await resolveIdentity({
          cfg: { enrollToken: enroll, region: 'syd', endpoint: '192.0.2.9:51820', gateway: false, coordinatorUrl: c.url },
          state,
          api: new CoordinatorApi(c.url, ''),
          log: silentLogger,
          stopped: () => false,
        });
        assert.equal(id.hostId, lost.json.host.id);
        assert.equal(state.loadIdentity()?.hostId, lost.json.host.id, 'saved for the next start');
        assert.equal((await c.call('GET', `/v1/hosts/${id.hostId}`, undefined, lost.json.credential)).status, 401);
        assert.equal((await c.call('GET', `/v1/hosts/${id.hostId}`, undefined, id.credential)).status, 200);
      } finally {
        dir.remove();
      }
    });

    it('the agent keeps retrying on a conflict instead of exiting', async () => {
      const dir = tempDir('sixpn-hosts-agent-');
      try {
        const state = new StateDir(join(dir.path, 'state'));
        const { privateKey, publicKey } = generateKeyPair();
        state.savePrivateKey(privateKey);
        const live = await c.call('POST', '/v1/hosts', { region: 'syd', endpoint: '192.0.2.10:51820', public_key: publicKey }, enroll);
        assert.equal(live.status, 201);
        if (!c.url) await c.listen();
        let stopped = false;
        let tries = 0;
        const api = new CoordinatorApi(c.url, '');
        const enrollCall = api.enroll.bind(api);
        api.enroll = (b) => {
          tries++;
          return enrollCall(b);
        };
        const outcome = resolveIdentity({
          cfg: { enrollToken: enroll, region: 'syd', endpoint: '198.51.100.10:51820', gateway: false, coordinatorUrl: c.url },
          state,
          api,
          log: silentLogger,
          stopped: () => stopped,
          conflictRetryMs: 100,
        }).then(
          () => 'enrolled',
          (err: Error) => err.message,
        );
        await until(() => tries >= 3, 5000);
        stopped = true;
        assert.equal(await outcome, 'stopped before enrollment', 'it retried (3+ tries) until stopped, never gave up on the 409');
      } finally {
        dir.remove();
      }
    });
  });

  describe('remove', () => {
    let c: TestCoordinator;
    let replica: Replica;
    let feed: FeedClient;
    let dns: DnsServer;
    const hosts: Record<string, { id: number; credential: string }> = {};
    const dir = tempDir('sixpn-hosts-cli-');
    const cli = (...args: string[]) =>
      runCliIn(dir.path, ['hosts', ...args, '--api', c.url, '--token', c.admin], { SIXPN_CONFIG: join(dir.path, 'none.json'), HOME: dir.path });

    async function aaaa(name: string): Promise<string[]> {
      const res = await udpExchange('127.0.0.1', dns.addresses[0]!.port, buildQuery(name, QTYPE.AAAA), 1000);
      return res
        ? decode(res)
            .answers.map((a) => a.data as string)
            .sort()
        : ['<no answer>'];
    }

    before(async () => {
      c = await testCoordinator({ heartbeatMs: 200 });
      await c.listen();
      for (const [name, region, key, gateway] of [
        ['gw', 'ams', KEY_A, true],
        ['plain', 'fra', KEY_B, false],
        ['other', 'ams', KEY_C, true],
      ] as const) {
        const r = await c.call('POST', '/v1/hosts', { region, endpoint: `192.0.2.${Object.keys(hosts).length + 1}:51820`, public_key: key, gateway });
        assert.equal(r.status, 201);
        hosts[name] = { id: r.json.host.id, credential: r.json.credential };
      }
      await c.call('POST', '/v1/orgs', { name: 'acme' });
      await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
      const reader = (await c.call('POST', '/v1/tokens', { scope: 'reader' })).json.token;
      replica = new Replica();
      dns = await startDnsServer({ replica, listen: [{ host: '127.0.0.1', port: 0 }], loopbackOrg: 'acme' });
      feed = new FeedClient({ url: c.url, token: reader, replica, minBackoffMs: 50, maxBackoffMs: 300 });
      feed.start();
      await until(() => replica.ready, 5000);
    });
    after(async () => {
      await feed?.stop();
      await dns?.close();
      await c?.close();
      dir.remove();
    });

    it('only an admin removes a host', async () => {
      const org = (await c.call('POST', '/v1/tokens', { scope: 'org', org: 'acme' })).json.token;
      const enroll = (await c.call('POST', '/v1/tokens', { scope: 'host-enroll' })).json.token;
      for (const [who, token] of [
        ['host (itself)', hosts.plain!.credential],
        ['host (another)', hosts.gw!.credential],
        ['org', org],
        ['host-enroll', enroll],
      ]) {
        const r = await c.call('DELETE', `/v1/hosts/${hosts.plain!.id}?force=true`, undefined, token);
        assert.equal(r.status, 403, `${who}: ${JSON.stringify(r.json)}`);
      }
      assert.equal((await c.call('DELETE', `/v1/hosts/${hosts.plain!.id}`, undefined, null)).status, 401);
      assert.equal((await c.call('DELETE', '/v1/hosts/0')).status, 400);
      assert.equal((await c.call('DELETE', '/v1/hosts/999')).status, 404);
      assert.equal((await c.call('GET', '/v1/hosts')).json.hosts.length, 3, 'nothing removed');
      const bad = await cli('remove', 'nope');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /ID must be a host id/);
    });

    it('a gateway carrying developer peers is refused (409 naming them) unless --force, which removes and prints them', async () => {
      // Two peers in ams: one on each gateway (least loaded first).
      for (const [name, key] of [
        ['laptop', generateKeyPair().publicKey],
        ['ci', generateKeyPair().publicKey],
      ] as const) {
        const r = await c.call('POST', '/v1/orgs/acme/peers', { name, region: 'ams', public_key: key });
        assert.equal(r.status, 201, JSON.stringify(r.json));
      }
      const onGw = (await c.call('GET', '/v1/orgs/acme/peers')).json.peers.filter((p: { host_id: number }) => p.host_id === hosts.gw!.id);
      assert.equal(onGw.length, 1);
      const m = (await c.call('POST', '/v1/machines', { app: 'web', region: 'fra' })).json.machine;
      assert.equal(m.host_id, hosts.plain!.id);
      await until(async () => (await aaaa('web.internal')).includes(m.address), 2000);

      const refused = await c.call('DELETE', `/v1/hosts/${hosts.gw!.id}`);
      assert.equal(refused.status, 409);
      assert.match(refused.json.error.message, new RegExp(`still carrying 1 developer peer\\(s\\): acme/${onGw[0].name}; .*--force`));
      const viaCli = await cli('remove', String(hosts.gw!.id));
      assert.equal(viaCli.code, 1);
      assert.match(viaCli.stderr, new RegExp(`acme/${onGw[0].name}`));
      assert.equal((await c.call('GET', '/v1/orgs/acme/peers')).json.peers.length, 2, 'refused: nothing removed');
      assert.equal((await c.call('GET', `/v1/hosts/${hosts.gw!.id}`, undefined, hosts.gw!.credential)).status, 200, 'refused: the credential still works');

      const forced = await cli('remove', String(hosts.gw!.id), '--force');
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, new RegExp(`^removed host ${hosts.gw!.id} \\(ams, 192\\.0\\.2\\.1:51820\\)\\nremoved peer acme/${onGw[0].name} \\(`));
      await until(() => !replica.hosts.has(String(hosts.gw!.id)) && !replica.peers.has(`acme/${onGw[0].name}`), 1000);
      const left = (await c.call('GET', '/v1/orgs/acme/peers')).json.peers;
      assert.deepEqual(
        left.map((p: { name: string }) => p.name),
        [onGw[0].name === 'laptop' ? 'ci' : 'laptop'],
        "the other gateway's peer stays",
      );
      assert.equal((await c.call('GET', `/v1/hosts/${hosts.gw!.id}`, undefined, hosts.gw!.credential)).status, 401, 'its credential is refused');
      assert.equal((await c.call('PUT', `/v1/hosts/${hosts.gw!.id}/heartbeat`, undefined, hosts.gw!.credential)).status, 401);
      assert.equal((await c.call('GET', `/v1/hosts/${hosts.gw!.id}`)).status, 404);
      // A new peer in ams goes to the remaining gateway.
      const next = await c.call('POST', '/v1/orgs/acme/peers', { name: 'phone', region: 'ams', public_key: generateKeyPair().publicKey });
      assert.equal(next.json.peer.host_id, hosts.other!.id);
    });

    it("a removed host's machines become lost and leave DNS; it is gone from the feed and hosts list", async () => {
      const m = (await c.call('GET', '/v1/machines?app=web')).json.machines[0];
      assert.ok((await aaaa('web.internal')).includes(m.address));
      // The host's own feed stream, open while it is removed, is cut and not let back in.
      const own = new FeedClient({ url: c.url, token: hosts.plain!.credential, replica: new Replica(), minBackoffMs: 50, maxBackoffMs: 300 });
      let refused = false;
      own.subscribe({
        authError: () => {
          refused = true;
        },
      });
      own.start();
      await until(() => own.connected, 5000);
      const rev = await c.store.rev();
      const r = await c.call('DELETE', `/v1/hosts/${hosts.plain!.id}`);
      try {
        await until(() => refused && !own.connected, 3000);
      } finally {
        await own.stop();
      }
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json.lost_machines, [m.id]);
      assert.deepEqual(r.json.removed_peers, []);
      assert.equal(await c.store.rev(), rev + 1, 'one change record');
      const rec = (await c.store.changesSince(rev))[0]!;
      assert.deepEqual(
        rec.ops.map((o) => `${o.entity}:${o.op}`),
        ['machine:upsert', 'host:delete'],
      );
      await until(async () => (await aaaa('web.internal')).length === 0 && !replica.machines.has(m.id), 1000);
      assert.equal((await aaaa(`${m.id}.vm.web.internal`)).length, 0);
      const lost = (await c.call('GET', `/v1/machines/${m.id}`)).json.machine;
      assert.equal(lost.state, 'lost');
      assert.match(lost.reason, /host \d+ was removed/);
      assert.equal((await c.call('POST', `/v1/machines/${m.id}/start`)).status, 409, 'a lost machine does not start');
      assert.equal((await c.store.snapshot()).state.machines.length, 0, 'not in a fresh snapshot either');
      assert.deepEqual(
        (await c.call('GET', '/v1/hosts')).json.hosts.map((h: { id: number }) => h.id),
        [hosts.other!.id],
      );
      // Its key does not enroll again, and a new machine in fra has nowhere to go.
      const again = await c.call('POST', '/v1/hosts', { region: 'fra', endpoint: '192.0.2.2:51820', public_key: KEY_B });
      assert.equal(again.status, 409);
      assert.match(again.json.error.message, /was removed/);
      assert.equal((await c.call('POST', '/v1/machines', { app: 'web', region: 'fra' })).status, 422);
      assert.equal((await c.call('DELETE', `/v1/machines/${m.id}`)).json.machine.state, 'destroyed', 'a lost machine can be destroyed');
    });
  });

  describe('heartbeats and the host timeout', () => {
    let c: TestCoordinator;
    const h: Record<string, { id: number; credential: string }> = {};
    before(async () => {
      c = await testCoordinator({ hostTimeoutMs: 400 });
      for (const [name, key, gateway] of [
        ['silent', KEY_A, true],
        ['alive', KEY_B, false],
      ] as const) {
        const r = await c.call('POST', '/v1/hosts', { region: 'ams', endpoint: `192.0.2.${Object.keys(h).length + 1}:51820`, public_key: key, gateway });
        h[name] = { id: r.json.host.id, credential: r.json.credential };
      }
      await c.call('POST', '/v1/orgs', { name: 'acme' });
      await c.call('POST', '/v1/apps', { name: 'web', org: 'acme' });
      // Load the live host so the silent one (machine_count 0) would win on load alone.
      await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' });
    });
    after(() => c.close());

    it("a heartbeat is only the host's own, and makes no revision", async () => {
      const rev = await c.store.rev();
      assert.equal((await c.call('PUT', `/v1/hosts/${h.alive!.id}/heartbeat`, undefined, h.alive!.credential)).status, 204);
      assert.equal(await c.store.rev(), rev);
      assert.equal(
        (await c.call('PUT', `/v1/hosts/${h.silent!.id}/heartbeat`, undefined, h.alive!.credential)).status,
        403,
        'a host does not keep another alive',
      );
      assert.equal((await c.call('PUT', `/v1/hosts/${h.alive!.id}/heartbeat`)).status, 403, 'not even an admin');
    });

    it('a host silent past the timeout is unreachable and gets no new machines or peers', async () => {
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        await c.call('PUT', `/v1/hosts/${h.alive!.id}/heartbeat`, undefined, h.alive!.credential);
        await sleep(100);
      }
      const listed = (await c.call('GET', '/v1/hosts')).json.hosts as { id: number; status: string; last_seen: string }[];
      assert.deepEqual(
        listed.map((x) => [x.id, x.status]),
        [
          [h.silent!.id, 'unreachable'],
          [h.alive!.id, 'reachable'],
        ],
      );
      assert.ok(Date.now() - Date.parse(listed[1]!.last_seen) < 1000);
      for (let i = 0; i < 3; i++) {
        const m = await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' });
        assert.equal(m.json.machine.host_id, h.alive!.id, 'placement skips the unreachable host even with fewer machines');
      }
      const peer = await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'ams', public_key: generateKeyPair().publicKey });
      assert.equal(peer.status, 422, 'the one gateway is unreachable');
      assert.match(peer.json.error.message, /no gateway in region ams/);
      // Silence both: the region has no reachable host, and the error says so.
      await sleep(600);
      const none = await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' });
      assert.equal(none.status, 422);
      assert.match(none.json.error.message, /no reachable host in region ams .*unreachable: /);
      // A heartbeat brings a host back at once.
      await c.call('PUT', `/v1/hosts/${h.silent!.id}/heartbeat`, undefined, h.silent!.credential);
      assert.equal((await c.call('POST', '/v1/machines', { app: 'web', region: 'ams' })).json.machine.host_id, h.silent!.id);
      assert.equal((await c.call('POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'ams', public_key: generateKeyPair().publicKey })).status, 201);
    });
  });
});
