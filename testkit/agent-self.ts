// The agent's view of the host it runs on, as the unit tests of the planner,
// the reconciler and the state-file fallback share it.
import type { SelfConfig } from '../src/agent/desired.js';

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
