// One reconcile pass carried out over the ports: nft rules, the WireGuard
// device and its peers, the device's addresses and routes, the machines.
// Each step is planned from what the port reports (src/agent/plan.ts); a
// failing step is reported and the others still run. Returns what it did.
import type { Logger } from '../log.js';
import type { WgDump } from '../wg/dump.js';
import type { DesiredHost } from './desired.js';
import { planDevice, planKick, planLinkSettings, planMissing, planNft, planPeers } from './plan.js';
import type { Ports } from './ports.js';

export type StepName = 'nft' | 'wireguard' | 'routes' | 'machines';

/** The WireGuard device as this host runs it. */
export interface DeviceWant {
  iface: string;
  privateKey: string;
  listenPort: number;
  mtu: number;
}

/** What a pass trusts from earlier passes instead of asking the devices again. */
export interface ApplyMemory {
  /** rules text last written; null: write on the next pass */
  nftText: string | null;
  /** the peers (JSON) the device was last converged to; null: diff on the next pass */
  peersKey: string | null;
  /** the device is new: start handshakes once its peers are set */
  kickPending: boolean;
}

export function freshMemory(): ApplyMemory {
  return { nftText: null, peersKey: null, kickPending: false };
}

export interface ApplyReport {
  nftWritten: boolean;
  /** public keys, by what the pass did to them */
  peers: { added: string[]; removed: string[]; changed: string[] };
  /** peers given a one-off keepalive to start handshakes with a new device */
  kicked: number;
  /** the device was gone and was made again */
  deviceRecreated: boolean;
  /** the device as read this pass (null: not read) */
  dump: WgDump | null;
  failed: { step: StepName; error: string }[];
}

export interface ApplyOptions {
  device: DeviceWant;
  memory: ApplyMemory;
  /** re-read everything from the devices (periodic resync, repair, retry) */
  force: boolean;
  log: Logger;
  /** unix seconds (the roaming grace of src/wg/diff.ts) */
  nowS?: number;
}

export async function apply(desired: DesiredHost, ports: Ports, o: ApplyOptions): Promise<ApplyReport> {
  const report: ApplyReport = { nftWritten: false, peers: { added: [], removed: [], changed: [] }, kicked: 0, deviceRecreated: false, dump: null, failed: [] };
  const step = async (name: StepName, f: () => Promise<unknown>): Promise<void> => {
    try { await f(); } catch (err) {
      const error = (err as Error).message ?? String(err);
      report.failed.push({ step: name, error });
      o.log.error({ step: name, err: error }, 'converge step failed');
    }
  };
  await step('nft', async () => { report.nftWritten = await writeNft(desired, ports, o.memory, o.log); });
  // `wg show` is a spawn (milliseconds of blocked event loop): only when the
  // peers changed, or on a forced pass.
  const peersKey = JSON.stringify(desired.peers);
  if (o.force || peersKey !== o.memory.peersKey) {
    await step('wireguard', async () => {
      await syncPeers(desired, ports, o, report);
      o.memory.peersKey = peersKey;
    });
  }
  await step('routes', () => syncLinkState(desired, ports, o.device));
  await step('machines', () => ports.machines.reconcile(desired.attachments));
  return report;
}

/** Write the rules when they differ from those written last; true when written. */
export async function writeNft(desired: DesiredHost, ports: Ports, memory: ApplyMemory, log: Logger): Promise<boolean> {
  const p = planNft(desired.nft, memory.nftText);
  if (!p.write) return false;
  await ports.nft.write(desired.nft, p.text);
  memory.nftText = p.text;
  log.info({ table: desired.nft.table, attachments: desired.nft.attachments.length, networks: desired.nft.networks.length }, 'nftables table written');
  return true;
}

/** Device, key, port, link state; adopts an existing device untouched. */
export async function setupDevice(ports: Ports, want: DeviceWant, memory: ApplyMemory): Promise<void> {
  const { created } = await ports.wg.ensure(want.iface);
  if (created) memory.kickPending = true;
  await syncDevice(ports, want);
  await ports.rtnl.enableForwarding();
}

async function syncDevice(ports: Ports, want: DeviceWant): Promise<void> {
  const dump = await ports.wg.show(want.iface);
  if (!dump) throw new Error(`WireGuard device ${want.iface} is not answering`);
  const set = planDevice(dump.device, want);
  if (Object.keys(set).length) await ports.wg.setDevice(want.iface, set);
  const link = await ports.rtnl.link(want.iface);
  if (!link) throw new Error(`link ${want.iface} vanished`);
  const s = planLinkSettings(want.mtu, link);
  if (s) await ports.rtnl.setLink(link.index, s);
}

async function syncPeers(desired: DesiredHost, ports: Ports, o: ApplyOptions, report: ApplyReport): Promise<void> {
  const { iface } = o.device;
  let dump = await ports.wg.show(iface);
  if (!dump) {
    o.log.warn({ iface }, 'WireGuard device lost; recreating');
    await setupDevice(ports, o.device, o.memory);
    report.deviceRecreated = true;
    dump = await ports.wg.show(iface);
    if (!dump) throw new Error('WireGuard device did not come back');
  } else if (Object.keys(planDevice(dump.device, o.device)).length) {
    await syncDevice(ports, o.device);
  }
  report.dump = dump;
  const plan = planPeers(desired.peers, dump.peers, o.nowS ?? Math.floor(Date.now() / 1000));
  if (plan.changes.length) await ports.wg.applyPeers(iface, plan.changes);
  report.peers = { added: plan.added, removed: plan.removed, changed: plan.changed };
  if (!o.memory.kickPending) return;
  o.memory.kickPending = false;
  const kick = planKick(desired.peers);
  if (!kick.length) return;
  await ports.wg.applyPeers(iface, kick);
  report.kicked = kick.length;
  o.log.info({ peers: kick.length }, 'new WireGuard device: handshakes started');
}

async function syncLinkState(desired: DesiredHost, ports: Ports, want: DeviceWant): Promise<void> {
  const { rtnl } = ports;
  const link = await rtnl.link(want.iface);
  if (!link) throw new Error(`link ${want.iface} is gone`);
  const s = planLinkSettings(want.mtu, link);
  if (s) await rtnl.setLink(link.index, s);
  const addrs = (await rtnl.addresses(link.index)).map((a) => `${a.ip}/${a.prefixLen}`);
  for (const a of planMissing(desired.addresses, addrs)) await rtnl.addAddress(link.index, a, { nodad: true });
  const routes = (await rtnl.routes(6)).filter((r) => r.oif === link.index).map((r) => r.dst);
  for (const r of planMissing(desired.routes, routes)) await rtnl.replaceRoute(r, link.index);
}
