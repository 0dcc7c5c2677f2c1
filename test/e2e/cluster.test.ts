// End to end: clusters on the mesh. Three hosts in three regions (real
// agents, wireguard-go, nftables), machines started with `command` running
// the cluster programs of examples/cluster/, a developer peer brought up with
// stock wg-quick. One world for the whole file; the steps build on each other.
// Timing figures are reported in the test titles; the only time limits
// asserted are the functional deadlines (metadata visible on every
// host within 1 s; PostgreSQL clients committing on the new primary within
// the lease TTL + 2 s, with no acknowledged commit lost).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { networkDnsAddress } from '../../src/addr/plan.js';
import type { Machine } from '../../src/model/types.js';
import { ClusterWorld, memberName, nearestRegion, ORG, PG_LEASE_TTL, PORTS, SCRIPTS, type WorkerStatus } from '../../examples/cluster/world.js';
import { failoverLine, pgFailover } from '../../examples/cluster/pgscenario.js';
import { nssWrapperLib, PG_BIN } from '../../examples/cluster/pgserver.js';
import { DEFAULT_MACHINE_API_PORT } from '../../src/agent/defaults.js';
import { e2eUnavailable, namespacesLike } from '../../testkit/mesh.js';

const METRICS_PORT = 9482;

/** Values of `name` (Prometheus text) whose labels include `labels`. */
function series(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}

/** Processes whose command line mentions `needle` (leak check; nothing is killed by name). */
function processesWith(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(needle)) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('clusters on the mesh (e2e: machine API, Temporal-shaped and database-shaped clusters)', function () {
  this.timeout(60_000);
  let w: ClusterWorld;
  const frontends: Machine[] = [];
  let members: Machine[] = [];

  before(async function () {
    const why =
      e2eUnavailable() ??
      (['curl', 'wg-quick', 'psql'].find((t) => {
        try {
          execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
          return false;
        } catch {
          return true;
        }
      })
        ? 'needs curl, wg-quick and psql'
        : null) ??
      (existsSync(`${PG_BIN}/postgres`) ? null : `needs PostgreSQL 15 in ${PG_BIN}`) ??
      (nssWrapperLib() ? null : 'needs libnss-wrapper');
    // Fail loudly rather than skip: a skipped end-to-end suite would pass CI without testing anything.
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    this.timeout(120_000);
    // Each agent also serves its metrics on its host's loopback.
    w = await ClusterWorld.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB), agentArgs: ['--metrics', `127.0.0.1:${METRICS_PORT}`] });
  });

  after(async function () {
    this.timeout(60_000);
    if (!w) return;
    const ids = [...w.lab.machines];
    const laptopNs = w.laptop?.ns;
    const ifaces = [...w.lab.agents.values()].map((a) => a.iface);
    await w.destroy();
    assert.deepEqual(namespacesLike(w.lab.id), [], 'lab namespaces left behind');
    assert.deepEqual(
      ids.filter((id) => existsSync(`/var/run/netns/sixpn-${id}`)),
      [],
      'machine namespaces left behind',
    );
    if (laptopNs) assert.equal(existsSync(`/etc/netns/${laptopNs}`), false, 'laptop resolv.conf left behind');
    assert.deepEqual(processesWith(`l${w.lab.id}`).concat(...ifaces.map((i) => processesWith(`wireguard-go -f ${i}`))), [], 'wireguard-go left running');
    assert.deepEqual(
      ids.flatMap((id) => processesWith(`sixpn-${id}`)),
      [],
      'machine processes left running',
    );
  });

  describe('machine API (served by every host at http://[fdaa:N:N::3])', () => {
    const p: Record<string, Machine> = {};
    const base = (m: Machine): string => `http://[${networkDnsAddress(m.network_id)}]`;
    const curl = (m: Machine, args: string[]) => w.lab.inMachine(m.id, ['curl', '-sS', '-m', '3', ...args], { reject: false });
    const put = (m: Machine, path: string, value: string, extra: string[] = []) =>
      curl(m, [...extra, '-X', 'PUT', '-H', 'content-type: application/json', '-d', JSON.stringify({ value }), '-w', '\n%{http_code}', `${base(m)}${path}`]);
    const status = (r: { stdout: string }): number => Number(r.stdout.trim().split('\n').pop());
    const primaries = async (from: Machine): Promise<string[]> => (await w.lab.dig(from.id, 'primary.role.kv._metadata.probe.internal')).answers;

    before(async function () {
      this.timeout(60_000);
      await w.lab.api('POST', '/v1/apps', { name: 'probe', org: ORG });
      p.a = await w.lab.createMachine('probe', 'ams');
      p.b = await w.lab.createMachine('probe', 'ams'); // same host as a
      p.c = await w.lab.createMachine('probe', 'iad');
      p.d = await w.lab.createMachine('probe', 'nrt');
      await Promise.all(Object.values(p).map((m) => w.lab.attached(m)));
    });

    it('a machine reads itself and its app, no token needed', async () => {
      const self = await curl(p.a!, [`${base(p.a!)}/v1/self`]);
      assert.equal(self.exitCode, 0, self.stderr);
      const me = JSON.parse(self.stdout) as Machine;
      assert.deepEqual([me.id, me.app, me.region, me.address], [p.a!.id, 'probe', 'ams', p.a!.address]);
      const list = JSON.parse((await curl(p.c!, [`${base(p.c!)}/v1/machines`])).stdout) as { machines: Machine[] };
      assert.deepEqual(
        list.machines.map((m) => m.id).sort(),
        Object.values(p)
          .map((m) => m.id)
          .sort(),
      );
      // The README's short form: `curl -X PUT -d VALUE` (form-encoded by curl).
      const set = await curl(p.d!, ['-X', 'PUT', '-d', 'blue', `${base(p.d!)}/v1/self/metadata/color`]);
      assert.deepEqual(JSON.parse(set.stdout), { color: 'blue' });
      assert.deepEqual(JSON.parse((await curl(p.d!, ['-X', 'DELETE', `${base(p.d!)}/v1/self/metadata/color`])).stdout), {});
    });

    it('role=primary set from inside a machine answers as primary.role.kv._metadata on every host within 1 s, and leaves as fast', async function () {
      const hosts = [p.a!, p.c!, p.d!]; // ams, iad, nrt
      /** ms from `t0` until every host's DNS satisfies `ok` (polled with dig from a machine on each host). */
      const everyHost = (t0: number, ok: (answers: string[]) => boolean) =>
        Promise.all(hosts.map((q) => w.lab.until(`${q.region} DNS`, async () => (ok(await primaries(q)) ? Date.now() - t0 : false), 10_000, 10)));

      let t0 = Date.now();
      const r = await put(p.a!, '/v1/self/metadata/role', 'primary');
      assert.equal(status(r), 200, r.stdout + r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.split('\n')[0]!), { role: 'primary' });
      const seen = await everyHost(t0, (a) => a.length === 1 && a[0] === p.a!.address);
      // Read-your-write: the host answered only once its replica had it.
      assert.equal(JSON.parse((await curl(p.a!, [`${base(p.a!)}/v1/self/metadata/role`])).stdout).value, 'primary');
      assert.equal((await w.lab.api<{ machine: Machine }>('GET', `/v1/machines/${p.a!.id}`)).machine.metadata.role, 'primary');

      t0 = Date.now();
      const moved = await Promise.all([put(p.a!, '/v1/self/metadata/role', 'replica'), put(p.c!, `/v1/machines/${p.c!.id}/metadata/role`, 'primary')]);
      for (const m of moved) assert.equal(status(m), 200, m.stdout);
      const gone = await everyHost(t0, (a) => a.length === 1 && a[0] === p.c!.address);

      const del = await curl(p.c!, ['-X', 'DELETE', '-w', '\n%{http_code}', `${base(p.c!)}/v1/self/metadata/role`]);
      assert.equal(status(del), 200, del.stdout);
      assert.equal(status(await curl(p.c!, ['-w', '\n%{http_code}', `${base(p.c!)}/v1/self/metadata/role`])), 404);

      for (const ms of [...seen, ...gone]) assert.ok(ms <= 1000, `metadata took ${ms} ms to reach a host (deadline 1 s): ${seen} / ${gone}`);
      this.test!.title += ` [visible on ams/iad/nrt after ${seen.join('/')} ms; moved after ${gone.join('/')} ms; PUT and dig polling included]`;
    });

    it("another machine's id is refused with 403, and nothing changes", async () => {
      for (const path of [`/v1/machines/${p.b!.id}/metadata/role`, `/v1/machines/${p.d!.id}/metadata/role`]) {
        const r = await put(p.a!, path, 'primary');
        assert.equal(status(r), 403, r.stdout);
        assert.equal(JSON.parse(r.stdout.split('\n')[0]!).error.code, 'forbidden');
      }
      const del = await curl(p.a!, ['-X', 'DELETE', '-w', '\n%{http_code}', `${base(p.a!)}/v1/machines/${p.b!.id}/metadata/role`]);
      assert.equal(status(del), 403);
      for (const m of [p.b!, p.d!]) assert.deepEqual((await w.lab.api<{ machine: Machine }>('GET', `/v1/machines/${m.id}`)).machine.metadata, {});
    });

    it("a forged source address never reaches it (same host or another host's machine)", async () => {
      for (const victim of [p.b!, p.c!]) {
        await w.lab.inMachine(p.a!.id, ['ip', '-6', 'addr', 'add', `${victim.address}/128`, 'dev', 'eth0', 'nodad']);
        try {
          const r = await put(p.a!, '/v1/self/metadata/role', 'forged', ['--interface', victim.address, '-m', '2']);
          // 28: timed out (the SYN was dropped), not a bind or routing error.
          assert.equal(r.exitCode, 28, `a forged request: exit ${r.exitCode} ${r.stdout}${r.stderr}`);
        } finally {
          await w.lab.inMachine(p.a!.id, ['ip', '-6', 'addr', 'del', `${victim.address}/128`, 'dev', 'eth0'], { reject: false });
        }
        assert.equal((await w.lab.api<{ machine: Machine }>('GET', `/v1/machines/${victim.id}`)).machine.metadata.role, undefined);
      }
    });
  });

  describe('a Temporal-shaped cluster across ams, iad and nrt', () => {
    it('7 members of frontend, history and matching find each other by _instances.internal and converge', async function () {
      this.timeout(90_000);
      const plan: [string, string][] = [
        ['temporal-frontend', 'ams'],
        ['temporal-frontend', 'iad'],
        ['temporal-history', 'ams'],
        ['temporal-history', 'iad'],
        ['temporal-history', 'nrt'],
        ['temporal-matching', 'iad'],
        ['temporal-matching', 'nrt'],
      ];
      const t0 = Date.now();
      members = await Promise.all(plan.map(([app, region]) => w.member(app, region)));
      frontends.push(...members.filter((m) => m.app === 'temporal-frontend'));
      const { lastChangeAt, statuses } = await w.converged(members);
      for (const s of statuses) assert.equal(s.members.length, 7);
      assert.deepEqual(new Set(statuses.map((s) => s.self.region)), new Set(['ams', 'iad', 'nrt']));
      this.test!.title += ` [converged ${lastChangeAt - t0} ms after the creates, node start included]`;
    });

    it('one member leaves, one joins: every member converges on the new set', async function () {
      this.timeout(90_000);
      const leaving = members.find((m) => m.app === 'temporal-history' && m.region === 'nrt')!;
      const t0 = Date.now();
      const [joined] = await Promise.all([w.member('temporal-matching', 'ams'), w.stop(leaving)]);
      members = [...members.filter((m) => m !== leaving), joined];
      const { lastChangeAt, statuses } = await w.converged(members);
      for (const s of statuses) {
        assert.ok(s.members.includes(memberName(joined)));
        assert.ok(!s.members.includes(memberName(leaving)));
      }
      this.test!.title += ` [converged ${lastChangeAt - t0} ms after stop + create]`;
    });

    it('workers reach the frontend through top1.nearest.of (the nearest region) and through every address', async function () {
      const workers = await Promise.all(['iad', 'nrt'].map((r) => w.worker(r)));
      const fronts = frontends.map(memberName).sort();
      for (const wk of workers) {
        const want = frontends.find(
          (f) =>
            f.region ===
            nearestRegion(
              wk.region,
              frontends.map((x) => x.region),
            ),
        )!;
        const s = await w.lab.until(`worker ${wk.region} reached the frontends`, async () => {
          const st = await w.status<WorkerStatus>(wk, PORTS.workerStatus);
          return st && st.nearest !== null && st.all.length === fronts.length ? st : false;
        });
        assert.equal(s.nearest, memberName(want), `worker in ${wk.region}: nearest should be the frontend in ${want.region}`);
        assert.equal(s.nearestIp, want.address);
        assert.deepEqual(s.all, fronts);
      }
    });

    it("an external worker (a developer peer of app temporal-worker, wg-quick) reaches the frontend by name and is in the app's DNS", async function () {
      this.timeout(60_000);
      const laptop = await w.startLaptop();
      const r = await laptop.exec([process.execPath, SCRIPTS.worker, '--once', '--port', String(PORTS.member), '--timeout', '20000'], {
        env: { WORKER_NAME: 'laptop' },
      });
      assert.equal(r.exitCode, 0, `external worker: ${r.stdout}\n${r.stderr}\nwg-quick: ${laptop.upLog}`);
      const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as WorkerStatus;
      const want = frontends.find(
        (f) =>
          f.region ===
          nearestRegion(
            'ams',
            frontends.map((x) => x.region),
          ),
      )!; // the peer is in ams
      assert.equal(s.nearest, memberName(want));
      assert.deepEqual(s.all, frontends.map(memberName).sort());

      // Seen from inside the mesh, the laptop is one more temporal-worker instance.
      const from = members[0]!;
      const aaaa = await w.lab.dig(from.id, 'temporal-worker.internal');
      assert.ok(aaaa.answers.includes(laptop.address), `temporal-worker.internal: ${aaaa.answers.join(' ')}`);
      const txt = (await w.lab.dig(from.id, '_instances.internal', 'TXT')).answers.join('').replace(/" ?"/g, '').replace(/"/g, '');
      assert.match(txt, new RegExp(`instance=laptop,app=temporal-worker,ip=${laptop.address.replace(/[.:]/g, '\\$&')},region=ams`));

      // The machine API is for machines only: not the developer peer, not the outside.
      const dnsIp = laptop.created.dns;
      const viaPeer = await laptop.exec(['curl', '-sS', '-m', '2', `http://[${dnsIp}]/v1/self`]);
      // Its DNS queries to the same ::3 work (above): port 80 is just not redirected for peers.
      assert.equal(viaPeer.exitCode, 28, `a developer peer and the machine API: exit ${viaPeer.exitCode} ${viaPeer.stdout}${viaPeer.stderr}`);
      const ams = w.lab.agent('ams').host.addr;
      const outside = await laptop.exec(['curl', '-sS', '-m', '2', `http://${ams}:${DEFAULT_MACHINE_API_PORT}/v1/self`]);
      assert.equal(outside.exitCode, 28, `the outside and the machine API's local port: exit ${outside.exitCode} ${outside.stdout}${outside.stderr}`);
    });
  });

  describe("the agents' metrics (--metrics)", () => {
    it('peers by kind, handshake ages, reconcile passes, machines, the feed', async function () {
      this.timeout(30_000);
      for (const region of ['ams', 'iad', 'nrt']) {
        const ns = w.lab.agent(region).host.ns;
        // Handshake ages come from the device as last read (every resync, 10 s): wait for one.
        const text = await w.lab.until(
          `${region} metrics with handshake ages`,
          async () => {
            const r = await w.lab.lab.exec(ns, ['curl', '-sf', '-m', '3', `http://127.0.0.1:${METRICS_PORT}/metrics`], { reject: false });
            const ages = series(r.stdout, 'sixpn_agent_peer_handshake_age_seconds', { kind: 'host' });
            return ages.length === 2 && ages.every((a) => a >= 0) ? r.stdout : false;
          },
          25_000,
          500,
        );
        assert.deepEqual(series(text, 'sixpn_agent_peers', { kind: 'host' }), [2], region);
        assert.deepEqual(series(text, 'sixpn_agent_peers', { kind: 'peer' }), [region === 'ams' ? 1 : 0], `${region}: developer peers`);
        assert.ok(series(text, 'sixpn_agent_machines')[0]! > 0);
        assert.ok(series(text, 'sixpn_agent_reconciles_total')[0]! > 0);
        assert.ok(series(text, 'sixpn_agent_reconcile_duration_seconds_count')[0]! > 0);
        assert.deepEqual(series(text, 'sixpn_agent_feed_connected'), [1]);
        assert.ok(series(text, 'sixpn_agent_feed_revision')[0]! > 0);
      }
    });
  });

  describe('a host moves', () => {
    it('restarted with another --endpoint, the agent updates its host record; the cluster holds', async function () {
      this.timeout(60_000);
      const iad = w.lab.agent('iad');
      // A second underlay address on the same lab subnet, as after a re-IP.
      const moved = iad.host.addr.replace(/\.\d+$/, `.${200 + ((iad.hostId ?? 0) % 50)}`);
      await w.lab.lab.exec(iad.host.ns, ['ip', 'addr', 'add', `${moved}/24`, 'dev', 'eth0']);
      await w.lab.stopAgent('iad');
      iad.args = ['--endpoint', `${moved}:51820`];
      await w.lab.startAgent('iad');
      await w.lab.until('coordinator has the new endpoint', async () => (await w.lab.hosts()).find((h) => h.id === iad.hostId)?.endpoint === `${moved}:51820`);
      await w.lab.until(
        'identity file updated',
        async () => (JSON.parse(readFileSync(`${iad.stateDir}/identity.json`, 'utf8')) as { endpoint: string }).endpoint === `${moved}:51820`,
      );
      await w.converged(members, 30_000);
    });
  });

  describe('PostgreSQL 15: a primary by lease and a synchronous streaming replica, failover', () => {
    it('the replica streams from primary.lease.pg.internal (remote_apply); both libpq forms write to the primary; after the primary stops, the replica takes the lease, promotes, and clients carry on within TTL + 2 s with no acknowledged commit lost', async function () {
      this.timeout(240_000);
      const r = await pgFailover(w);
      assert.match(r.version, /^PostgreSQL 15\./);
      // before: one holder, the standby synchronous, every form on the primary, the row applied on the replica
      assert.deepEqual(r.before.lease, [r.primary.address]);
      assert.match(r.before.standby, new RegExp(`^${r.replica.id}\\|streaming\\|sync$`));
      assert.equal(r.before.viaLease, r.primary.address);
      assert.equal(r.before.viaApp, r.primary.address);
      assert.equal(r.before.replicaInRecovery, 't');
      assert.equal(r.before.replicaHasRow, true, 'remote_apply: a commit is on the replica when it returns');
      // after: the replica holds the lease and is the read-write primary
      assert.deepEqual(r.after.lease, [r.replica.address]);
      assert.equal(r.after.viaApp, r.replica.address);
      assert.equal(r.after.inRecovery, 'f');
      assert.equal(r.after.replica?.role, 'primary');
      assert.ok(r.after.replica?.promoted, 'the replica promoted itself');
      assert.ok(r.acked > 40, `only ${r.acked} acknowledged commits`);
      assert.equal(r.lost, 0, `${r.lost} of ${r.acked} acknowledged commits are not on the new primary`);
      for (const ms of r.perClientMs)
        assert.ok(ms <= PG_LEASE_TTL * 1000 + 2000, `a client took ${ms} ms to commit on the new primary (target: lease TTL + 2 s)`);
      this.test!.title += ` [${failoverLine(r)}; clients ${r.perClientMs.join(' / ')} ms; ${r.acked} acknowledged]`;
    });
  });
});
