// The store's behaviour, on SQLite and on PostgreSQL alike: the same suite
// runs against both backends (a real PostgreSQL cluster started by the test).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AppError } from '../../src/errors.js';
import type { ChangeRecord } from '../../src/model/types.js';
import { PostgresBackend } from '../../src/store/postgres.js';
import type { SqlBackend } from '../../src/store/sql.js';
import { SqliteBackend } from '../../src/store/sqlite.js';
import { Store, type StoreOptions } from '../../src/store/store.js';
import { KEY_A, KEY_B, KEY_C } from '../../testkit/coordinator.js';
import { startPg, type PgCluster } from '../../testkit/pg.js';
import { tempDir } from '../../testkit/tmp.js';

interface BackendUnderTest {
  name: 'sqlite' | 'postgres';
  /** a fresh, empty database each call; the same `key` reopens the same one */
  open(key: string): Promise<SqlBackend>;
}

let pgCluster: PgCluster | null = null;
let dir: { path: string; remove(): void };
const pgDbs = new Map<string, string>();

const BACKENDS: BackendUnderTest[] = [
  { name: 'sqlite', open: async (key) => new SqliteBackend(join(dir.path, `${key}.db`)) },
  {
    name: 'postgres',
    async open(key) {
      let url = pgDbs.get(key);
      if (!url) {
        url = await pgCluster!.createDb(`store_${key}`);
        pgDbs.set(key, url);
      }
      return PostgresBackend.connect(url);
    },
  },
];

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === code);
}

function assertContiguous(recs: ChangeRecord[], from: number, to: number): void {
  assert.deepEqual(
    recs.map((r) => r.rev),
    Array.from({ length: to - from }, (_, i) => from + 1 + i),
  );
}

describe('store behaviour (SQLite and PostgreSQL)', () => {
  before(async function () {
    this.timeout(60_000);
    dir = tempDir('sixpn-store-');
    pgCluster = await startPg();
  });
  after(() => {
    pgCluster?.stop();
    dir?.remove();
  });

  for (const backend of BACKENDS) {
    describe(`store on ${backend.name}`, function () {
      this.timeout(30_000);
      let store: Store;
      let n = 0;
      const open = async (key: string, opts: StoreOptions = {}): Promise<Store> => Store.open(await backend.open(key), opts);

      before(async () => {
        store = await open('main');
      });
      after(async () => {
        await store?.close();
      });

      it('starts at revision 0 with the regions seeded and no changes', async () => {
        assert.equal(await store.rev(), 0);
        assert.deepEqual(await store.changesSince(0), []);
        const regions = await store.listRegions();
        assert.ok(regions.length >= 30);
        const iad = regions.find((r) => r.code === 'iad')!;
        assert.equal(typeof iad.latitude, 'number');
      });

      it('creates an org with its default network: one revision, one change record', async () => {
        const before = await store.rev();
        const { org, network } = await store.createOrg('acme');
        assert.equal(await store.rev(), before + 1);
        assert.equal(org.network_id, network.id);
        assert.equal(typeof network.id, 'number');
        assert.equal(network.name, 'default');
        const [rec] = await store.changesSince(before);
        assert.equal(rec!.rev, before + 1);
        assert.deepEqual(rec!.ops, [
          { entity: 'org', op: 'upsert', data: org },
          { entity: 'network', op: 'upsert', data: network },
        ]);
        assert.deepEqual(await store.getOrg('acme'), org);
      });

      it('refuses duplicates with conflict, unknown names with not_found, and a failed write leaves no revision', async () => {
        const before = await store.rev();
        await rejectsWith(store.createOrg('acme'), 'conflict');
        await rejectsWith(store.createApp({ name: 'x', org: 'nope' }), 'not_found');
        await rejectsWith(store.getOrg('nope'), 'not_found');
        await rejectsWith(store.createMachine({ app: 'nope', region: 'iad' }), 'not_found');
        assert.equal(await store.rev(), before);
        assert.deepEqual(await store.changesSince(before), []);
      });

      it('creates apps in the default network and in a custom network made on first use', async () => {
        const web = await store.createApp({ name: 'web', org: 'acme' });
        const acme = await store.getOrg('acme');
        assert.equal(web.network_id, acme.network_id);
        const rev = await store.rev();
        const db = await store.createApp({ name: 'db', org: 'acme', network: 'backend' });
        assert.notEqual(db.network_id, acme.network_id);
        const [rec] = await store.changesSince(rev);
        assert.deepEqual(
          rec!.ops.map((o) => o.entity),
          ['network', 'app'],
        );
        await rejectsWith(store.createApp({ name: 'web', org: 'acme' }), 'conflict');
        await rejectsWith(store.createNetwork('acme', 'backend'), 'conflict');
        assert.deepEqual(
          (await store.listNetworks('acme')).map((x) => x.name),
          ['default', 'backend'],
        );
        assert.deepEqual(
          (await store.listApps('acme')).map((a) => a.name),
          ['db', 'web'],
        );
      });

      it('enrolls hosts with sequential ids and refuses a second host with the same key', async () => {
        const { host: h1 } = await store.enrollHost({ region: 'iad', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: true });
        const { host: h2 } = await store.enrollHost({ region: 'iad', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: false });
        assert.equal(h2.id, h1.id + 1);
        assert.equal(h1.gateway, true);
        assert.equal(h2.gateway, false);
        await rejectsWith(store.enrollHost({ region: 'iad', endpoint: '192.0.2.3:51820', public_key: KEY_A, gateway: false }), 'conflict');
        await rejectsWith(store.enrollHost({ region: 'nowhere', endpoint: '192.0.2.3:51820', public_key: KEY_C, gateway: false }), 'invalid');
        assert.deepEqual(await store.getHost(h1.id), h1);
        const moved = await store.updateHost(h2.id, { endpoint: '192.0.2.22:51820' });
        assert.equal(moved.endpoint, '192.0.2.22:51820');
        assert.deepEqual(
          (await store.listHosts()).map((h) => h.id),
          [h1.id, h2.id],
        );
      });

      it('creates machines on the least-loaded host, with their address, and changes their state', async () => {
        const m1 = await store.createMachine({ app: 'web', region: 'iad', metadata: { role: 'primary' }, command: ['sleep', '1'] });
        const m2 = await store.createMachine({ app: 'web', region: 'iad', group: 'worker', stopped: true });
        assert.notEqual(m1.host_id, m2.host_id, 'placement spreads over the two iad hosts');
        assert.equal(m1.state, 'started');
        assert.equal(m2.state, 'created');
        assert.match(m1.address, /^fdaa:/);
        assert.deepEqual(m1.command, ['sleep', '1']);
        assert.deepEqual(await store.getMachine(m1.id), m1);
        await rejectsWith(store.createMachine({ app: 'web', region: 'syd' }), 'no_host');

        const stopped = await store.setMachineState(m1.id, 'stopped');
        assert.equal(stopped.state, 'stopped');
        const meta = await store.setMachineMetadata(m1.id, 'role', 'replica');
        assert.deepEqual(meta.metadata, { role: 'replica' });
        await store.setMachineState(m1.id, 'started');
        const failed = await store.reportMachineState(m1.host_id, m1.id, 'failed', 'veth busy');
        assert.equal(failed.state, 'failed');
        assert.equal(failed.reason, 'veth busy');
        await rejectsWith(store.reportMachineState(m2.host_id, m1.id, 'stopped', null), 'forbidden');

        const rev = await store.rev();
        const same = await store.setMachineState(m2.id, 'destroyed');
        assert.equal(same.state, 'destroyed');
        await store.setMachineState(m2.id, 'destroyed'); // idempotent: no new revision
        assert.equal(await store.rev(), rev + 1);
        await rejectsWith(store.setMachineState(m2.id, 'started'), 'conflict');
        assert.deepEqual(
          (await store.listMachines({ app: 'web' })).map((m) => m.id),
          [m1.id],
        );
        assert.deepEqual((await store.listMachines({ app: 'web', all: true })).map((m) => m.id).sort(), [m1.id, m2.id].sort());
        assert.deepEqual(
          (await store.listMachines({ host_id: m1.host_id })).map((m) => m.id),
          [m1.id],
        );
      });

      it('creates developer peers on a gateway of the region and removes them', async () => {
        const { peer, gateway } = await store.createPeer({ org: 'acme', name: 'laptop', region: 'iad', public_key: KEY_C });
        assert.equal(gateway.gateway, true);
        assert.equal(peer.host_id, gateway.id);
        assert.equal(peer.index, 1);
        assert.match(peer.address, /^fdaa:/);
        await rejectsWith(store.createPeer({ org: 'acme', name: 'laptop', region: 'iad', public_key: 'c'.repeat(43) + '=' }), 'conflict');
        await rejectsWith(store.createPeer({ org: 'acme', name: 'other', region: 'syd', public_key: 'd'.repeat(43) + '=' }), 'no_gateway');
        assert.deepEqual(await store.getPeer('acme', 'laptop'), peer);

        // Gateway status reports: BIGINT counters beyond 32 bits come back as numbers.
        await store.setPeerStatus(gateway.id, [
          { org: 'acme', name: 'laptop', latest_handshake: 1_700_000_000, rx_bytes: 2 ** 40, tx_bytes: 5, endpoint: '198.51.100.7:40000' },
        ]);
        const st = await store.getPeerStatus('acme', 'laptop');
        assert.equal(st!.rx_bytes, 2 ** 40);
        assert.equal(st!.latest_handshake, 1_700_000_000);

        const rev = await store.rev();
        await store.removePeer('acme', 'laptop');
        const [rec] = await store.changesSince(rev);
        assert.deepEqual(rec!.ops, [{ entity: 'peer', op: 'delete', key: 'acme/laptop' }]);
        assert.equal(await store.getPeerStatus('acme', 'laptop'), null);
        await rejectsWith(store.removePeer('acme', 'laptop'), 'not_found');
      });

      it('keeps every revision: one change record per revision, no gap, even with concurrent writers', async () => {
        const before = await store.rev();
        const writes = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? store.createOrg(`c${n++}`) : store.createMachine({ app: 'web', region: 'iad' })));
        await Promise.all(writes);
        const head = await store.rev();
        assert.equal(head, before + 40);
        const all = await store.changesSince(0, 100_000);
        assertContiguous(all, 0, head);
        assertContiguous(await store.changesSince(before, 10), before, before + 10);
        for (const r of all) assert.ok(!Number.isNaN(Date.parse(r.at)));
      });

      it('gives a snapshot that matches the listings at its revision', async () => {
        const { rev, state } = await store.snapshot();
        assert.equal(rev, await store.rev());
        assert.deepEqual(state.orgs, await store.listOrgs());
        assert.deepEqual(state.apps, await store.listApps());
        assert.deepEqual(state.hosts, await store.listHosts());
        assert.equal(state.machines.length, (await store.listMachines({})).length);
        assert.ok(state.machines.every((m) => m.state !== 'destroyed'));
        assert.deepEqual(state.regions, await store.listRegions());
      });

      it('orders names bytewise, whatever the database locale', async () => {
        for (const name of ['z-b', 'zb', 'z-a', 'z0']) await store.createOrg(name);
        const names = (await store.listOrgs()).map((o) => o.name).filter((x) => x.startsWith('z'));
        assert.deepEqual(names, ['z-a', 'z-b', 'z0', 'zb']);
      });

      it('stores tokens hashed, resolves and revokes them', async () => {
        assert.equal(await store.hasAdminToken(), false);
        const admin = await store.createToken({ scope: 'admin' });
        const org = await store.createToken({ scope: 'org', org: 'acme' });
        const host = await store.createToken({ scope: 'host', host_id: 1 });
        assert.equal(await store.hasAdminToken(), true);
        assert.deepEqual(await store.resolveToken(org.token), { id: org.id, scope: 'org', org: 'acme', host_id: null, app: null, expires_at: null });
        assert.deepEqual(await store.resolveToken(host.token), { id: host.id, scope: 'host', org: null, host_id: 1, app: null, expires_at: null });
        assert.equal(await store.resolveToken('sixpn_admin_nope'), null);
        await rejectsWith(store.createToken({ scope: 'org', org: 'nope' }), 'not_found');
        const rev = await store.rev();
        await store.revokeToken(admin.id);
        assert.equal(await store.rev(), rev, 'tokens are not part of the feed');
        assert.equal(await store.resolveToken(admin.token), null);
        await rejectsWith(store.revokeToken(admin.id), 'not_found');
      });

      it("keeps a token's app, expiry and last use, lists unrevoked tokens by org and reports revocations", async () => {
        const expires = new Date(Date.now() + 3_600_000).toISOString();
        const ci = await store.createToken({ scope: 'wireguard', org: 'acme', app: 'web', expires_at: expires });
        assert.deepEqual(await store.resolveToken(ci.token), { id: ci.id, scope: 'wireguard', org: 'acme', host_id: null, app: 'web', expires_at: expires });
        const listed = (await store.listTokens('acme')).find((t) => t.id === ci.id)!;
        assert.equal(listed.last_used_at, null);
        assert.equal(listed.expires_at, expires);
        assert.ok(!(await store.listTokens('acme')).some((t) => t.org !== 'acme'), 'only acme tokens');
        assert.ok(
          (await store.listTokens()).some((t) => t.scope === 'host'),
          'admin view holds every token',
        );
        const at = new Date().toISOString();
        const rev = await store.rev();
        await store.touchTokens([ci.id], at);
        assert.equal((await store.findToken(ci.id))!.last_used_at, at);
        assert.equal(await store.rev(), rev, 'last use is not part of the feed');
        const since = new Date(Date.now() - 1000).toISOString();
        await store.revokeToken(ci.id);
        assert.equal(await store.findToken(ci.id), null);
        assert.ok(!(await store.listTokens('acme')).some((t) => t.id === ci.id), 'revoked tokens are not listed');
        const revoked = await store.revokedTokensSince(since);
        assert.ok(revoked.some((r) => r.id === ci.id));
        for (const r of revoked) assert.equal(await store.findToken(r.id), null, 'only revoked tokens');
      });

      it('removes expired ephemeral peers in one revision and names the next expiry', async () => {
        const past = new Date(Date.now() - 1000).toISOString();
        const later = new Date(Date.now() + 3_600_000).toISOString();
        await store.createPeer({ org: 'acme', name: 'eph1', region: 'iad', public_key: KEY_C, expires_at: past });
        await store.createPeer({ org: 'acme', name: 'eph2', region: 'iad', public_key: 'e'.repeat(43) + '=', expires_at: later });
        assert.equal((await store.getPeer('acme', 'eph2')).expires_at, later);
        assert.equal(await store.nextPeerExpiry(), past);
        const rev = await store.rev();
        assert.deepEqual(
          (await store.removeExpiredPeers()).map((p) => p.name),
          ['eph1'],
        );
        const recs = await store.changesSince(rev);
        assert.equal(recs.length, 1);
        assert.deepEqual(recs[0]!.ops, [{ entity: 'peer', op: 'delete', key: 'acme/eph1' }]);
        assert.deepEqual(await store.removeExpiredPeers(), [], 'nothing more expired');
        assert.equal(await store.rev(), rev + 1, 'an empty sweep writes no revision');
        assert.equal(await store.nextPeerExpiry(), later);
        await store.removePeer('acme', 'eph2');
        assert.equal(await store.nextPeerExpiry(), null);
      });

      it('prunes old change records and reports the oldest resumable revision', async () => {
        const s = await open('prune', { keepChanges: 5 });
        try {
          for (let i = 0; i < 12; i++) await s.createOrg(`p${i}`);
          const head = await s.rev();
          assert.equal(head, 12);
          const oldest = await s.oldestResumableRev();
          assert.ok(oldest > 0 && oldest <= head - 5, `oldest resumable ${oldest}`);
          assertContiguous(await s.changesSince(oldest), oldest, head);
        } finally {
          await s.close();
        }
      });

      it('reopens with its data and revision (migrations run once)', async () => {
        const s1 = await open('reopen');
        await s1.createOrg('keep');
        const rev = await s1.rev();
        await s1.close();
        const s2 = await open('reopen');
        try {
          assert.equal(await s2.rev(), rev);
          assert.equal((await s2.getOrg('keep')).name, 'keep');
          const { network } = await s2.createOrg('next');
          assert.equal(network.id, (await s2.getOrg('keep')).network_id + 1, 'the network sequence continues');
        } finally {
          await s2.close();
        }
      });
    });
  }
});
