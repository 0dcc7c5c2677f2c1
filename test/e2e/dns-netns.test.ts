// glibc through real network namespaces: two namespaces with source
// addresses in two different org networks, each with /etc/netns/<ns>/resolv.conf
// pointing at its network's DNS address (fdaa:N:N::3, held by the root side of
// its veth, where the server listens on port 53). `getent ahosts` in each
// sees only its own org's apps; a source in no network is REFUSED.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { machineAddress, networkDnsAddress } from '../../src/addr/plan.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { Replica } from '../../src/feed/replica.js';
import { REGIONS } from '../../src/model/regions.js';
import type { State } from '../../src/model/types.js';
import { machine } from '../../testkit/dns-fixture.js';

const run = promisify(execFile);
const TAG = randomBytes(3).toString('hex'); // unique per run: names, networks
const NET_A = 0x5e000000 + parseInt(TAG.slice(0, 4), 16) * 2;
const NET_B = NET_A + 1;
const HOST = 7;
const OUTSIDER = `fd5e:${TAG.slice(0, 4)}::2`; // a ULA in no network

interface Ns {
  name: string;
  hostIf: string;
  nsIf: string;
  net: number;
  dns: string;
  src: string;
}
const NSS: Ns[] = [NET_A, NET_B].map((net, i) => ({
  name: `sxd${TAG}${'ab'[i]}`,
  hostIf: `sxd${TAG}${'ab'[i]}h`,
  nsIf: `sxd${TAG}${'ab'[i]}n`,
  net,
  dns: networkDnsAddress(net),
  src: machineAddress(net, HOST, 0x11110001 + i),
}));

const WEB_1 = machine('aaaa0001000001', 'web', NET_A, HOST, 'started');
const WEB_2 = machine('aaaa0002000002', 'web', NET_A, HOST, 'started');
const WEB_OFF = machine('aaaa0003000003', 'web', NET_A, HOST, 'stopped');
const API_1 = machine('bbbb0001000001', 'api', NET_B, HOST, 'started');

function state(): State {
  const at = '2025-01-01T00:00:00.000Z';
  return {
    regions: [...REGIONS],
    orgs: [
      { name: 'orga', network_id: NET_A, created_at: at },
      { name: 'orgb', network_id: NET_B, created_at: at },
    ],
    networks: [
      { id: NET_A, org: 'orga', name: 'default', created_at: at },
      { id: NET_B, org: 'orgb', name: 'default', created_at: at },
    ],
    apps: [
      { name: 'web', org: 'orga', network_id: NET_A, created_at: at },
      { name: 'api', org: 'orgb', network_id: NET_B, created_at: at },
    ],
    hosts: [
      { id: HOST, region: 'iad', endpoint: '192.0.2.7:51820', public_key: 'psHGoP5ye3D77qznE5i9kHg9jPk7SS79/NWfYqqWrxY=', gateway: true, created_at: at },
    ],
    machines: [WEB_1, WEB_2, WEB_OFF, API_1].map((m) => ({ ...m, org: m.network_id === NET_A ? 'orga' : 'orgb' })),
    peers: [],
  };
}

const ip = (...args: string[]): Promise<unknown> => run('ip', args);
const inNs = (ns: Ns, cmd: string, ...args: string[]): Promise<{ stdout: string }> => run('ip', ['netns', 'exec', ns.name, cmd, ...args], { timeout: 20_000 });

/** `getent ahosts NAME` in a namespace: the set of addresses, or null when not found. */
async function ahosts(ns: Ns, name: string): Promise<string[] | null> {
  try {
    const { stdout } = await inNs(ns, 'getent', 'ahosts', name);
    return [
      ...new Set(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(/\s+/)[0]!),
      ),
    ].sort();
  } catch (err) {
    if ((err as { code?: number }).code === 2) return null; // getent: key not found
    throw err;
  }
}

describe('dns e2e: glibc in namespaces, two orgs isolated', function () {
  this.timeout(60_000);
  let server: DnsServer | null = null;

  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces, veth pairs, port 53); CI runs the suite as root');
    for (const ns of NSS) {
      await ip('netns', 'add', ns.name);
      await ip('link', 'add', ns.hostIf, 'type', 'veth', 'peer', 'name', ns.nsIf);
      await ip('link', 'set', ns.nsIf, 'netns', ns.name);
      await run('sysctl', ['-qw', `net.ipv6.conf.${ns.hostIf}.accept_dad=0`]);
      await ip('addr', 'add', `${ns.dns}/128`, 'dev', ns.hostIf, 'nodad');
      await ip('link', 'set', ns.hostIf, 'up');
      await ip('route', 'add', `${ns.src}/128`, 'dev', ns.hostIf);
      await ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      await inNs(ns, 'sysctl', '-qw', `net.ipv6.conf.${ns.nsIf}.accept_dad=0`);
      await ip('-n', ns.name, 'addr', 'add', `${ns.src}/128`, 'dev', ns.nsIf, 'nodad');
      await ip('-n', ns.name, 'link', 'set', ns.nsIf, 'up');
      await ip('-n', ns.name, 'route', 'add', `${ns.dns}/128`, 'dev', ns.nsIf);
      mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns.name}/resolv.conf`, `nameserver ${ns.dns}\noptions timeout:2 attempts:2\n`);
    }
    // a second source in namespace A that belongs to no network
    await ip('-n', NSS[0]!.name, 'addr', 'add', `${OUTSIDER}/128`, 'dev', NSS[0]!.nsIf, 'nodad');
    await ip('route', 'add', `${OUTSIDER}/128`, 'dev', NSS[0]!.hostIf);

    const replica = new Replica();
    replica.applySnapshot(1, state());
    server = await startDnsServer({ replica, listen: NSS.map((ns) => ({ host: ns.dns, port: 53 })) });
  });

  after(async () => {
    await server?.close();
    for (const ns of NSS) {
      await ip('netns', 'del', ns.name).catch(() => undefined);
      await ip('link', 'del', ns.hostIf).catch(() => undefined); // gone with its peer, normally
      rmSync(`/etc/netns/${ns.name}`, { recursive: true, force: true });
    }
  });

  it('org A resolves its own app through glibc (started machines only)', async () => {
    assert.deepEqual(await ahosts(NSS[0]!, 'web.internal'), [WEB_1.address, WEB_2.address].sort());
    assert.deepEqual(await ahosts(NSS[0]!, `${WEB_1.id}.vm.web.internal`), [WEB_1.address]);
  });

  it("org A does not see org B's app", async () => {
    assert.equal(await ahosts(NSS[0]!, 'api.internal'), null);
  });

  it("org B resolves its own app and not org A's", async () => {
    assert.deepEqual(await ahosts(NSS[1]!, 'api.internal'), [API_1.address]);
    assert.equal(await ahosts(NSS[1]!, 'web.internal'), null);
  });

  it('dig in each namespace lists only its own apps', async () => {
    assert.equal((await inNs(NSS[0]!, 'dig', '+short', '+tries=1', `@${NSS[0]!.dns}`, '_apps.internal', 'TXT')).stdout.trim(), '"web"');
    assert.equal((await inNs(NSS[1]!, 'dig', '+short', '+tries=1', `@${NSS[1]!.dns}`, '_apps.internal', 'TXT')).stdout.trim(), '"api"');
  });

  it('a source in no network is refused', async () => {
    const { stdout } = await inNs(NSS[0]!, 'dig', '+tries=1', '-b', OUTSIDER, `@${NSS[0]!.dns}`, 'web.internal', 'AAAA');
    assert.match(stdout, /status: REFUSED/);
  });
});
