// The agent's view of the host it runs on, as the unit tests of the planner,
// the reconciler and the state-file fallback share it, and the hosts and
// machines their tables are built from.
import { machineAddress, machineFieldOf } from '../src/addr/plan.js';
import type { SelfConfig } from '../src/agent/desired.js';
import type { Host, Machine, MachineState } from '../src/model/types.js';

export const selfConfig = (o: Partial<SelfConfig> = {}): SelfConfig => ({
  hostId: 1,
  gateway: false,
  iface: 'sixpn0',
  listenPort: 51820,
  mtu: 1280,
  prefix: 0xfdaa,
  dnsPort: 5354,
  outsideFilter: true,
  openPorts: [],
  ...o,
});

/** A WireGuard public key made of one repeated character (valid base64, 32 bytes). */
export const fixtureKey = (c: string): string => `${c.repeat(43)}=`;

/** Host `id` in `region`, endpoint 198.18.0.(10+id):51820, key of letter 64+id. */
export const fixtureHost = (id: number, region = 'ams', o: Partial<Host> = {}): Host => ({
  id,
  region,
  endpoint: `198.18.0.${10 + id}:51820`,
  public_key: fixtureKey(String.fromCharCode(64 + id)),
  gateway: false,
  created_at: '',
  ...o,
});

/** Machine `id` of app web (org acme) on `hostId` in `networkId`, its address from the plan. */
export function fixtureMachine(id: string, hostId: number, networkId: number, state: MachineState = 'started', o: Partial<Machine> = {}): Machine {
  return {
    id,
    app: 'web',
    org: 'acme',
    network_id: networkId,
    host_id: hostId,
    region: 'ams',
    address: machineAddress(networkId, hostId, machineFieldOf(id)),
    state,
    reason: null,
    group: 'app',
    metadata: {},
    command: null,
    created_at: '',
    updated_at: 't0',
    ...o,
  };
}
