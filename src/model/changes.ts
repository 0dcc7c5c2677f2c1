// Change ops: built only by the named constructors below (the store writes
// them, the feed carries them, the replica applies them), and read through
// `networksTouched`, so what a change means is decided in one place.
import type { App, ChangeOp, Host, Machine, Network, Org, Peer } from './types.js';
import { entityKey } from './types.js';

export const orgUpserted = (data: Org): ChangeOp => ({ entity: 'org', op: 'upsert', data });
export const networkUpserted = (data: Network): ChangeOp => ({ entity: 'network', op: 'upsert', data });
export const appUpserted = (data: App): ChangeOp => ({ entity: 'app', op: 'upsert', data });
export const hostUpserted = (data: Host): ChangeOp => ({ entity: 'host', op: 'upsert', data });
/** Also how a machine is destroyed: an upsert with state `destroyed` (the replica drops it). */
export const machineUpserted = (data: Machine): ChangeOp => ({ entity: 'machine', op: 'upsert', data });
export const peerUpserted = (data: Peer): ChangeOp => ({ entity: 'peer', op: 'upsert', data });
/** A host was removed (its machines were sent as `lost` upserts first). */
export const hostDeleted = (id: number): ChangeOp => ({ entity: 'host', op: 'delete', key: String(id) });
export const peerDeleted = (org: string, name: string): ChangeOp => ({ entity: 'peer', op: 'delete', key: `${org}/${name}` });

/** The key under which an op's entity is stored (replica maps, delete ops). */
export function opKey(op: ChangeOp): string {
  return op.op === 'delete' ? op.key : entityKey(op.entity, op.data);
}

/** Where things were (before a change) or are (after it), for `networksTouched`. */
export interface NetworkLookup {
  /** network id of an app; undefined when the app is unknown */
  appNetwork(app: string): number | undefined;
  /** network and app of a peer; undefined when the peer is unknown */
  peer(org: string, name: string): { network_id: number; app: string | null } | undefined;
}

export interface Touched {
  /**
   * Networks whose members (apps, instances, peers) may differ after the
   * change; null when the ops cannot tell (a delete by key of anything but a
   * host): treat every network as touched.
   */
  networks: Set<number> | null;
  /** apps whose instances or network may differ */
  apps: Set<string>;
  /** machines named by the ops */
  machines: Set<string>;
  /** a host record changed (regions of hosts, endpoints, gateways) */
  hosts: boolean;
  /** an org or network record changed (a new network may exist) */
  orgs: boolean;
}

/**
 * What a change record touches. `before` tells where a changed app or peer
 * was (it leaves that network), `after` where an app is now; either may be
 * omitted, and then only the networks the ops name are found.
 */
export function networksTouched(ops: readonly ChangeOp[], before?: NetworkLookup, after?: Pick<NetworkLookup, 'appNetwork'>): Touched {
  const apps = new Set<string>();
  const machines = new Set<string>();
  const nets = new Set<number>();
  let hosts = false;
  let orgs = false;
  let unknown = false;
  for (const op of ops) {
    if (op.op === 'delete') {
      if (op.entity === 'host') hosts = true;
      else unknown = true;
      continue;
    }
    switch (op.entity) {
      case 'machine':
        apps.add(op.data.app);
        machines.add(op.data.id);
        break;
      case 'app':
        apps.add(op.data.name);
        nets.add(op.data.network_id);
        break;
      case 'peer': {
        nets.add(op.data.network_id);
        if (op.data.app) apps.add(op.data.app);
        // the peer may have been in another network, or an instance of another app, before
        const old = before?.peer(op.data.org, op.data.name);
        if (old) {
          nets.add(old.network_id);
          if (old.app) apps.add(old.app);
        }
        break;
      }
      case 'host':
        hosts = true;
        break;
      case 'org':
      case 'network':
        orgs = true;
        break;
    }
  }
  for (const a of apps) {
    const was = before?.appNetwork(a);
    if (was !== undefined) nets.add(was);
    const now = after?.appNetwork(a);
    if (now !== undefined) nets.add(now);
  }
  return { networks: unknown ? null : nets, apps, machines, hosts, orgs };
}
