// Remove everything an agent made on this host, from its state dir alone
// (no coordinator needed): machines it recorded, its nft table, its device.
import type { Logger } from '../log.js';
import { Rtnl } from '../netlink/rtnl.js';
import { NetnsDriver } from '../netns/driver.js';
import { deleteTable } from '../nft/apply.js';
import { tableName } from '../nft/render.js';
import { removeDevice } from '../wg/device.js';
import { isAlive } from './proc.js';
import { StateDir } from './statedir.js';

export async function teardownHost(o: { stateDir: string; iface: string; log: Logger }): Promise<void> {
  const state = new StateDir(o.stateDir);
  const rtnl = new Rtnl();
  try {
    const driver = new NetnsDriver(rtnl, o.log);
    for (const rec of state.loadAttachments()) {
      if (rec.pid !== null && isAlive(rec.pid, rec.pidStart)) {
        try {
          process.kill(-rec.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // Hook attachments: the host interface at least (the hook is not ours to run blind).
      await driver.detach(rec).catch((err: unknown) => o.log.warn({ machine: rec.machineId, err: String(err) }, 'detach failed'));
    }
    state.saveAttachments([]);
    await deleteTable(tableName(o.iface));
    await removeDevice({ iface: o.iface, rtnl, log: o.log, pidFile: state.path('wireguard-go.pid') });
  } finally {
    rtnl.close();
  }
}
