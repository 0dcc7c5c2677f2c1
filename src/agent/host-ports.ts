// The real ports of src/agent/ports.ts: `wg` and the device (kernel
// WireGuard or wireguard-go), rtnetlink, `nft`. The machines port is the
// MachineManager itself.
import type { Logger } from '../log.js';
import { enableInterfaceForwarding } from '../netlink/forwarding.js';
import type { Rtnl } from '../netlink/rtnl.js';
import { applyTable, listTable } from '../nft/apply.js';
import type { NftSpec } from '../nft/render.js';
import type { DeviceSettings, WgTool } from '../wg/cli.js';
import { ensureDevice, type DeviceHandle } from '../wg/device.js';
import type { PeerChange } from '../wg/diff.js';
import type { WgDump } from '../wg/dump.js';
import type { NftPort, RtnlPort, WgPort } from './ports.js';
import type { StateDir } from './statedir.js';

/** The `wg` tool, and the device it talks to; remembers the device last made or adopted. */
export class HostWg implements WgPort {
  device: DeviceHandle | null = null;

  constructor(private readonly o: { tool: WgTool; rtnl: Rtnl; state: StateDir; log: Logger; userspace?: boolean }) {}

  async ensure(iface: string): Promise<DeviceHandle> {
    this.device = await ensureDevice({
      iface,
      rtnl: this.o.rtnl,
      wg: this.o.tool,
      log: this.o.log,
      userspace: this.o.userspace,
      pidFile: this.o.state.path('wireguard-go.pid'),
      logFile: this.o.state.path('wireguard-go.log'),
    });
    return this.device;
  }

  show(iface: string): Promise<WgDump | null> {
    return this.o.tool.show(iface);
  }

  setDevice(iface: string, s: DeviceSettings): Promise<void> {
    return this.o.tool.setDevice(iface, s);
  }

  applyPeers(iface: string, changes: readonly PeerChange[]): Promise<number> {
    return this.o.tool.applyPeers(iface, changes);
  }
}

export function hostRtnl(rtnl: Rtnl, log: Logger): RtnlPort {
  let warned = false;
  return {
    link: (name) => rtnl.link(name),
    setLink: (index, opts) => rtnl.setLink(index, opts),
    addresses: (index) => rtnl.addresses(index),
    addAddress: (index, cidr, opts) => rtnl.addAddress(index, cidr, opts),
    routes: (family) => rtnl.routes(family),
    replaceRoute: (dst, oif) => rtnl.replaceRoute(dst, oif),
    // Routing between attachments and the tunnel: the interfaces we own only (src/netlink/forwarding.ts).
    enableForwarding: async (iface) => {
      const why = enableInterfaceForwarding(iface);
      if (why && !warned) {
        warned = true;
        log.error({ iface, reason: why }, 'IPv6 forwarding not enabled');
      }
    },
  };
}

/** `nft`; the text written is kept in the state dir so a restart over the same table rewrites nothing. */
export function hostNft(state: StateDir): NftPort {
  return {
    async write(spec: NftSpec, text: string) {
      await applyTable(spec);
      state.saveText('nft.applied', text);
    },
    exists: async (table) => (await listTable(table)) !== null,
  };
}
