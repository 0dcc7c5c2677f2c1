import assert from 'node:assert/strict';
import { computeDesired, hostIfaceName, hostInfraAddress, nsName } from '../../src/agent/desired.js';
import type { Machine, MachineState, Peer } from '../../src/model/types.js';
import { peerAddress } from '../../src/addr/plan.js';
import { fixtureHost, fixtureKey, fixtureMachine, selfConfig } from '../../testkit/agent-self.js';

const key = fixtureKey;
const host = fixtureHost;
let seq = 0;
function machine(hostId: number, networkId: number, state: MachineState = 'started', o: Partial<Machine> = {}): Machine {
  const id = `${(0x10000000 + ++seq).toString(16)}abcdef`;
  return fixtureMachine(id, hostId, networkId, state, { updated_at: `t${seq}`, ...o });
}
const peer = (hostId: number, networkId: number, index: number, name: string): Peer => ({
  org: 'acme',
  name,
  network_id: networkId,
  host_id: hostId,
  region: 'ams',
  index,
  address: peerAddress(networkId, hostId, index),
  public_key: key(name[0]!.toLowerCase()),
  app: null,
  created_at: '',
});
const self = selfConfig;

describe('agent desired state', () => {
  it('every other host is a peer, with the /80s it holds', () => {
    const hosts = [host(1), host(2), host(3)];
    const machines = [machine(2, 5), machine(2, 5), machine(2, 7, 'stopped'), machine(1, 5)];
    const d = computeDesired({ hosts, machines, peers: [] }, self());
    assert.deepEqual(d.peers, [
      { publicKey: key('B'), endpoint: '198.18.0.12:51820', allowedIps: ['fdaa:0:5:0:2::/80', 'fdaa:0:7:0:2::/80'], keepalive: 0 },
      { publicKey: key('C'), endpoint: '198.18.0.13:51820', allowedIps: [], keepalive: 0 },
    ]);
  });

  it('a host holds the /80 of a network where it carries a developer peer', () => {
    const d = computeDesired({ hosts: [host(1), host(2, 'iad', { gateway: true })], machines: [], peers: [peer(2, 9, 1, 'laptop')] }, self());
    assert.deepEqual(d.peers[0]!.allowedIps, ['fdaa:0:9:0:2::/80']);
  });

  it('a gateway carries its developer peers as /128s; a worker does not', () => {
    const peers = [peer(1, 9, 2, 'zed'), peer(1, 9, 1, 'laptop'), peer(2, 9, 1, 'other')];
    const hosts = [host(1), host(2)];
    const gw = computeDesired({ hosts, machines: [], peers }, self({ gateway: true }));
    assert.deepEqual(
      gw.peers.slice(1).map((p) => [p.allowedIps, p.endpoint]),
      [
        [[`${peerAddress(9, 1, 1)}/128`], null],
        [[`${peerAddress(9, 1, 2)}/128`], null],
      ],
    );
    assert.deepEqual(gw.owners.get(key('l')), { kind: 'peer', org: 'acme', name: 'laptop' });
    assert.equal(gw.nft.gateway, true);
    assert.deepEqual(gw.nft.networks, ['fdaa:0:9::/48']);
    const worker = computeDesired({ hosts, machines: [], peers }, self());
    assert.equal(worker.peers.length, 1);
  });

  it("attaches only this host's started machines", () => {
    const mine = machine(1, 5);
    const machines = [mine, machine(1, 5, 'stopped'), machine(1, 5, 'created'), machine(1, 6, 'failed'), machine(2, 5)];
    const d = computeDesired({ hosts: [host(1), host(2)], machines, peers: [] }, self());
    assert.equal(d.attachments.length, 1);
    const a = d.attachments[0]!;
    assert.equal(a.machineId, mine.id);
    assert.equal(a.address, mine.address);
    assert.ok(a.gateway.endsWith(':1'));
    assert.ok(a.subnet.endsWith('/112'));
    assert.equal(a.dnsAddress, 'fdaa:0:5::3');
    assert.equal(a.hostIface, `sx${mine.id.slice(0, 8)}`);
    assert.equal(a.nsName, `sixpn-${mine.id}`);
    assert.equal(a.mtu, 1280);
    // stopped/failed machines still hold their network on this host (no WireGuard churn on stop/start)
    assert.deepEqual(d.nft.networks, ['fdaa:0:5::/48', 'fdaa:0:6::/48']);
    assert.deepEqual(d.nft.attachments, [{ iface: a.hostIface, address: a.address }]);
  });

  it('skips itself and duplicate keys', () => {
    const d = computeDesired({ hosts: [host(1), host(2), host(3, 'ams', { public_key: key('B') })], machines: [], peers: [] }, self());
    assert.deepEqual(
      d.peers.map((p) => p.publicKey),
      [key('B')],
    );
  });

  it('routes the whole prefix into the device and gives it a network-0 address', () => {
    const d = computeDesired({ hosts: [host(1)], machines: [], peers: [] }, self({ hostId: 0x0a7b007d }));
    assert.deepEqual(d.routes, ['fdaa::/16']);
    assert.deepEqual(d.addresses, ['fdaa::a7b:7d:0:0:1/128']);
    assert.equal(hostInfraAddress(1, 0xfdaa), 'fdaa::1:0:0:1');
  });

  it('redirects DNS for the whole mesh and the machine API (tcp/80 of ::3) for machines only', () => {
    const d = computeDesired({ hosts: [host(1)], machines: [], peers: [] }, self({ machineApiPort: 4281 }));
    assert.deepEqual(d.nft.redirects, [
      { port: 53, protocols: ['udp', 'tcp'], toPort: 5354 },
      { port: 80, protocols: ['tcp'], toPort: 4281, from: 'attachments' },
    ]);
    assert.equal(computeDesired({ hosts: [host(1)], machines: [], peers: [] }, self()).nft.redirects.length, 1);
  });

  it('is stable: same state, same output', () => {
    const hosts = [host(3), host(1), host(2)];
    const machines = [machine(2, 5), machine(3, 5)];
    const a = computeDesired({ hosts, machines, peers: [] }, self());
    const b = computeDesired({ hosts: [...hosts].reverse(), machines: [...machines].reverse(), peers: [] }, self());
    assert.deepEqual(a.peers, b.peers);
    assert.deepEqual(a.nft, b.nft);
  });

  it('names', () => {
    assert.equal(hostIfaceName('f066b83b1234ab'), 'sxf066b83b');
    assert.equal(nsName('f066b83b1234ab'), 'sixpn-f066b83b1234ab');
  });
});
