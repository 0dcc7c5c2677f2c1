// Removing a host composes three entities in one transaction: the developer
// peers a gateway carries, its machines (now `lost`) and the host itself.
import { AppError } from '../errors.js';
import { hostDeleted, machineUpserted, peerDeleted } from '../model/changes.js';
import type { Host, Peer } from '../model/types.js';
import * as hosts from './hosts.js';
import * as machines from './machines.js';
import type { Written } from './options.js';
import * as peers from './peers.js';
import type { Tx } from './sql.js';

/** What `removeHost` did: the developer peers it removed with it (force) and the machines now lost. */
export interface HostRemoved {
  host: Host;
  removed_peers: Peer[];
  lost_machines: string[];
}

/** A gateway still carrying developer peers is refused unless `force`, which removes them too. */
export async function removeHostTx(tx: Tx, id: number, force: boolean): Promise<Written<HostRemoved>> {
  const host = await hosts.requireHost(tx, id);
  const carried = await peers.peersOnHost(tx, id);
  if (carried.length > 0 && !force) {
    const names = carried.map((p) => `${p.org}/${p.name}`);
    throw new AppError(
      'conflict',
      `host ${id} is a gateway still carrying ${names.length} developer peer(s): ${names.join(', ')}; ` +
        'remove them first (wireguard remove) or remove the host with --force, which removes them too',
    );
  }
  for (const p of carried) await peers.removePeer(tx, p.org, p.name);
  const lost = await machines.loseHostMachines(tx, id);
  await hosts.markRemoved(tx, id);
  const ops = [...lost.map(machineUpserted), ...carried.map((p) => peerDeleted(p.org, p.name)), hostDeleted(id)];
  return { value: { host, removed_peers: carried, lost_machines: lost.map((m) => m.id) }, ops };
}
