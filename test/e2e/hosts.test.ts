// End to end: `sixpn hosts remove` on a three-host mesh (namespaces, real
// agents, wireguard-go): within a second the other hosts' `wg show` no longer
// lists the removed host's key, their own tunnel stays, and the removed
// host's machine is `lost`. One focused world, built and torn down here.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Host, Machine } from '../../src/model/types.js';
import { MeshLab } from '../../lab/meshlab.js';
import { e2eUnavailable, namespacesLike } from '../../testkit/mesh.js';
import { runCliIn } from '../../testkit/peers.js';

describe('hosts remove (e2e: namespaces, wireguard-go)', function () {
  this.timeout(60_000);
  let w: MeshLab;
  let gone: Machine;

  before(async function () {
    const why = e2eUnavailable();
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    this.timeout(120_000);
    w = await MeshLab.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB) });
    await Promise.all(['ams', 'iad', 'nrt'].map((r) => w.addHost(r)));
    await w.api('POST', '/v1/orgs', { name: 'acme' });
    await w.api('POST', '/v1/apps', { name: 'web', org: 'acme' });
    gone = await w.createMachine('web', 'nrt');
    await w.attached(gone);
  });

  after(async function () {
    this.timeout(60_000);
    if (!w) return;
    const ids = [...w.machines];
    await w.destroy();
    assert.deepEqual(namespacesLike(w.id), [], 'lab namespaces left behind');
    assert.deepEqual(
      ids.filter((id) => existsSync(`/var/run/netns/sixpn-${id}`)),
      [],
      'machine namespaces left behind',
    );
  });

  it('within a second every other host drops the removed host as a WireGuard peer', async () => {
    const hosts = await w.hosts();
    const key = (region: string): string => hosts.find((h: Host) => h.id === w.agent(region).hostId)!.public_key;
    const peersOf = async (region: string): Promise<string[]> => (await w.wgDump(region)).peers.map((p) => p.publicKey);
    for (const [region, others] of [
      ['ams', ['iad', 'nrt']],
      ['iad', ['ams', 'nrt']],
    ] as const) {
      await w.until(`${region} peers with ${others.join(', ')}`, async () => {
        const keys = await peersOf(region);
        return others.every((o) => keys.includes(key(o)));
      });
    }
    const nrt = w.agent('nrt').hostId!;
    // Each host polled on its own; a poll that sees the key gone ends after
    // the change, so its end time bounds the delay from above.
    const dropped = (region: string, t0: number): Promise<number> =>
      w.until(
        `${region} drops nrt`,
        async () => {
          const keys = await peersOf(region);
          return keys.includes(key('nrt')) ? false : Date.now() - t0;
        },
        5000,
        10,
      );
    // Timed from the answer, as `wireguard remove` is: the change is committed then.
    const removed = await w.api<{ host: Host; lost_machines: string[] }>('DELETE', `/v1/hosts/${nrt}`);
    const t0 = Date.now();
    const [ams, iad] = await Promise.all([dropped('ams', t0), dropped('iad', t0)]);
    assert.deepEqual(removed.lost_machines, [gone.id]);
    process.stdout.write(`      (nrt's key gone from wg show: ams ${ams} ms, iad ${iad} ms after DELETE answered)\n`);
    assert.ok(ams < 1000 && iad < 1000, `not within a second: ams ${ams} ms, iad ${iad} ms`);
    assert.ok((await peersOf('ams')).includes(key('iad')) && (await peersOf('iad')).includes(key('ams')), 'the others keep each other');
    const m = await w.api<{ machine: Machine }>('GET', `/v1/machines/${gone.id}`);
    assert.equal(m.machine.state, 'lost');
    // The CLI shows what is left, and refuses the removed id.
    const env = { SIXPN_CONFIG: join(w.dir, 'no-cli.json'), HOME: w.dir };
    const list = await runCliIn(w.dir, ['hosts', 'list', '--json', '--api', w.url, '--token', w.adminToken], env);
    assert.deepEqual((JSON.parse(list.stdout) as Host[]).map((h) => h.id).sort(), [w.agent('ams').hostId, w.agent('iad').hostId].sort());
    const again = await runCliIn(w.dir, ['hosts', 'remove', String(nrt), '--api', w.url, '--token', w.adminToken], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not found/);
  });
});
