// One reconcile pass carried out over the ports: nft rules, the WireGuard
// device and its peers, the device's addresses and routes, the machines.
// Each step is planned from what the port reports (src/agent/plan.ts); a
// failing step is reported and the others still run. Returns what it did.
import type { Logger } from '../log.js';
import { diffDesiredPeers, type DesiredPeer, type PeerChange } from '../wg/diff.js';
import type { WgDump } from '../wg/dump.js';
import type { DesiredHost } from './desired.js';
import { planDevice, planKick, planLinkSettings, planMissing, planNft, planPeers } from './plan.js';
import type { Ports } from './ports.js';
import { resolvePeers, type PeerFailure } from './resolver.js';
import type { Attachment } from './types.js';

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
  /** which peers (list) the device was last converged to; null: diff against the device on the next pass */
  peersKey: string | null;
  /** those peers by public key: a non-forced pass applies only what changed since (src/wg/diff.ts diffDesiredPeers) */
  peers: Map<string, DesiredPeer> | null;
  /** the device is new: start handshakes once its peers are set */
  kickPending: boolean;
  /** the address and route lists last made sure of on the link; null: read the link on the next pass */
  link: { addresses: readonly string[]; routes: readonly string[] } | null;
  /** the attachment list the machines step last reconciled; null: reconcile on the next pass */
  attachments: readonly Attachment[] | null;
}

export function freshMemory(): ApplyMemory {
  return { nftText: null, peersKey: null, peers: null, kickPending: false, link: null, attachments: null };
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
  /** peers not applied as wanted this pass (each alone: the others were applied) */
  peerFailures: PeerFailure[];
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
  const report: ApplyReport = {
    nftWritten: false,
    peers: { added: [], removed: [], changed: [] },
    kicked: 0,
    deviceRecreated: false,
    dump: null,
    failed: [],
    peerFailures: [],
  };
  const step = async (name: StepName, f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
    } catch (err) {
      const error = (err as Error).message ?? String(err);
      report.failed.push({ step: name, error });
      o.log.error({ step: name, err: error }, 'converge step failed');
    }
  };
  await step('nft', async () => {
    report.nftWritten = await writeNft(desired, ports, o.memory, o.log);
  });
  // `wg show` is a spawn (milliseconds of blocked event loop) and a diff of
  // every peer: only on a forced pass, or when what changed needs the device's
  // view. Otherwise only the peers that changed since the last converged pass.
  const peersKey = desired.peersVersion !== undefined ? `v${desired.peersVersion}` : peersKeyOf(desired.peers);
  if (o.force || peersKey !== o.memory.peersKey) {
    await step('wireguard', async () => {
      const m = o.memory;
      // The planner's delta when the device was converged to the version it starts from; else every peer.
      const d = desired.peerDelta;
      const delta =
        !o.force && !m.kickPending && m.peers
          ? d && m.peersKey === `v${d.since}`
            ? diffDesiredPeers(m.peers, d.touched, { partial: true })
            : diffDesiredPeers(m.peers, desired.peers)
          : null;
      try {
        if (delta) await applyDelta(delta, desired, ports, o, report);
        else await syncPeers(desired, ports, o, report);
      } catch (err) {
        m.peersKey = m.peers = null; // the device may be half changed: the next pass diffs against it
        throw err;
      }
      // Not remembered as converged: the next pass diffs (and retries the failed peers) again.
      if (report.peerFailures.length) {
        m.peersKey = m.peers = null;
        throw new Error(`${report.peerFailures.length} peer(s) not applied: ${report.peerFailures.map((f) => f.error).join('; ')}`.slice(0, 1000));
      }
      m.peersKey = peersKey;
      if (delta && m.peers) {
        for (const p of delta.touched) m.peers.set(p.publicKey, p);
        for (const k of delta.removed) m.peers.delete(k);
      } else m.peers = new Map(desired.peers.map((p) => [p.publicKey, p]));
    });
  }
  // The planner hands out the same lists until they change: a non-forced pass
  // with the lists made sure of last time reads no link and runs no machine
  // step (a change elsewhere in the fleet costs this host nothing here). A
  // link event forces a pass (repairSoon), and so does the periodic resync.
  const m = o.memory;
  if (o.force || m.link?.addresses !== desired.addresses || m.link.routes !== desired.routes) {
    m.link = null;
    await step('routes', async () => {
      await syncLinkState(desired, ports, o.device);
      m.link = { addresses: desired.addresses, routes: desired.routes };
    });
  }
  if (o.force || m.attachments !== desired.attachments) {
    m.attachments = null;
    await step('machines', async () => {
      await ports.machines.reconcile(desired.attachments);
      m.attachments = desired.attachments;
    });
  }
  return report;
}

// A desired state without `peersVersion` (computeDesired: a new list for a new
// state) is known by its list's identity (a new list with the same peers costs
// a walk of identity checks in diffDesiredPeers, and no device call).
const peersKeys = new WeakMap<readonly DesiredPeer[], string>();
let peersSeq = 0;
function peersKeyOf(peers: readonly DesiredPeer[]): string {
  let k = peersKeys.get(peers);
  if (k === undefined) peersKeys.set(peers, (k = `peers#${++peersSeq}`));
  return k;
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

/**
 * Boot's first rules, before any long-lived connection. A restart over a
 * converged host rewrites nothing (the table written last time, `lastText`,
 * is trusted while it is there). With no desired state at all (none saved,
 * or corrupt, and the coordinator not answered yet) a live table is kept as
 * it is: the empty state is never applied over the live one.
 */
export async function writeBootNft(
  first: DesiredHost,
  known: boolean,
  ports: Ports,
  memory: ApplyMemory,
  lastText: string | null,
  log: Logger,
): Promise<boolean> {
  const live = await ports.nft.exists(first.nft.table);
  if (live && !known) {
    log.warn({ table: first.nft.table }, 'no desired state yet: keeping the live nftables table');
    return false;
  }
  if (live) memory.nftText = lastText;
  return writeNft(first, ports, memory, log);
}

/** Device, key, port, link state; adopts an existing device untouched. */
export async function setupDevice(ports: Ports, want: DeviceWant, memory: ApplyMemory): Promise<void> {
  const { created } = await ports.wg.ensure(want.iface);
  if (created) memory.kickPending = true;
  await syncDevice(ports, want);
  await ports.rtnl.enableForwarding(want.iface);
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
  const resolved = ports.resolver ? await resolvePeers(desired.peers, ports.resolver) : { peers: desired.peers, failures: [] };
  const plan = planPeers(resolved.peers, dump.peers, o.nowS ?? Math.floor(Date.now() / 1000));
  const failures = [...resolved.failures, ...(plan.changes.length ? await applyEach(ports, iface, plan.changes, o) : [])];
  const bad = new Set(failures.map((f) => f.publicKey));
  const ok = (keys: string[]): string[] => keys.filter((k) => !bad.has(k));
  report.peers = { added: ok(plan.added), removed: ok(plan.removed), changed: ok(plan.changed) };
  reportFailures(failures, desired, o, report);
  if (!o.memory.kickPending) return;
  o.memory.kickPending = false;
  const kick = planKick(desired.peers);
  if (!kick.length) return;
  // Best effort, each peer alone if need be: a peer that fails here was reported above.
  await applyEach(ports, iface, kick, o);
  report.kicked = kick.length;
  o.log.info({ peers: kick.length }, 'new WireGuard device: handshakes started');
}

function reportFailures(failures: PeerFailure[], desired: DesiredHost, o: ApplyOptions, report: ApplyReport): void {
  report.peerFailures = failures;
  for (const f of failures) {
    const owner = desired.owners.get(f.publicKey);
    const peer = !owner ? 'unknown' : owner.kind === 'host' ? `host ${owner.region}/${owner.hostId}` : `peer ${owner.org}/${owner.name}`;
    o.log.error({ peer, publicKey: f.publicKey, err: f.error }, 'WireGuard peer not applied; the others were');
  }
}

/** Only what changed since the last converged pass, without reading the device. */
async function applyDelta(delta: { changes: PeerChange[] }, desired: DesiredHost, ports: Ports, o: ApplyOptions, report: ApplyReport): Promise<void> {
  const failures = delta.changes.length ? await applyEach(ports, o.device.iface, delta.changes, o) : [];
  const bad = new Set(failures.map((f) => f.publicKey));
  const keys = (k: PeerChange['kind']): string[] => delta.changes.filter((c) => c.kind === k && !bad.has(changeKey(c))).map(changeKey);
  report.peers = { added: keys('add'), removed: keys('remove'), changed: keys('update') };
  reportFailures(failures, desired, o, report);
}

const changeKey = (c: PeerChange): string => (c.kind === 'add' ? c.peer.publicKey : c.publicKey);

/**
 * One `wg set` for all the changes; when it fails, each change alone, so a
 * peer `wg` refuses fails by itself and never blocks the others. A timeout is
 * not a bad peer (the device is stuck): that fails the step as a whole.
 */
async function applyEach(ports: Ports, iface: string, changes: readonly PeerChange[], o: ApplyOptions): Promise<PeerFailure[]> {
  const message = (err: unknown): string => ((err as Error).message ?? String(err)).slice(0, 500);
  try {
    await ports.wg.applyPeers(iface, changes);
    return [];
  } catch (err) {
    if ((err as { timedOut?: boolean }).timedOut) throw err;
    if (changes.length === 1) return [{ publicKey: changeKey(changes[0]!), error: message(err) }];
    o.log.warn({ changes: changes.length, err: message(err) }, 'wg set failed; applying each peer alone');
  }
  const failures: PeerFailure[] = [];
  for (const c of changes) {
    try {
      await ports.wg.applyPeers(iface, [c]);
    } catch (err) {
      if ((err as { timedOut?: boolean }).timedOut) throw err;
      failures.push({ publicKey: changeKey(c), error: message(err) });
    }
  }
  return failures;
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
