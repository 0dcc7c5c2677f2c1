// The host's desired state kept in step with the replica by patches: each
// change record's ops (with what their keys held before, ReplicaUpdate.before)
// update counts and caches, and only the parts they touch are rebuilt. Equal
// to computeDesired (src/agent/desired.ts) over the same state after every
// step (test/unit/agent-desired-index.test.ts proves it on random sequences);
// a snapshot is a reset. Pure: no I/O, no clock.
import { hostPrefix, networkPrefix } from '../addr/plan.js';
import type { ChangeOp, Host, Machine, Peer, State } from '../model/types.js';
import { entityKey, machineGone } from '../model/types.js';
import { opKey } from '../model/changes.js';
import { addCount } from '../nested-counts.js';
import type { DesiredPeer } from '../wg/diff.js';
import { attachmentOf, byPeerAddress, desiredBase, type DesiredHost, type PeerOwner, type SelfConfig } from './desired.js';
import type { NftAttachment } from '../nft/render.js';
import type { Attachment } from './types.js';

/** The part of the replicated state a host's plan depends on. */
export type PlanState = Pick<State, 'hosts' | 'machines' | 'peers'>;
type Before = readonly (unknown | undefined)[];

/** Index of `x` in the ascending `xs`, or where it would go (as `~index`, negative). */
function search(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return xs[lo] === x ? lo : ~lo;
}

/** An attachment is reused while these machine fields hold. */
const attachmentKey = (m: Machine): string => JSON.stringify([m.app, m.org, m.region, m.network_id, m.host_id, m.address, m.command, m.updated_at]);

export class DesiredIndex {
  /** keyed as the replica keys them (String(id)) */
  private readonly hosts = new Map<string, Host>();
  /** host ids, ascending */
  private sortedHosts: number[] = [];
  /** host id → network id → machines and peers there */
  private readonly held = new Map<number, Map<number, number>>();
  /** host id → network ids it holds, ascending */
  private readonly nets = new Map<number, number[]>();
  /** host id → its mesh peer (dropped when the host or its networks change) */
  private readonly meshPeers = new Map<number, DesiredPeer>();
  /** this host's started machines */
  private readonly local = new Map<string, { key: string; a: Attachment }>();
  /** each attachment's entry in the nft spec */
  private readonly nftAttachments = new WeakMap<Attachment, NftAttachment>();
  /** peers carried by this host (gateways only), keyed as the replica keys them */
  private readonly localPeers = new Map<string, Peer>();

  // What the next `desired()` rebuilds.
  private hostsDirty = true;
  private readonly peerDirty = new Set<number>();
  private gatewayDirty = true;
  private attachDirty = true;
  private netsDirty = true;

  // The last output and its parts.
  private out: DesiredHost | null = null;
  private hostPeers: DesiredPeer[] = [];
  /** host id of each entry of hostPeers */
  private hostPeerIds: number[] = [];
  private hostOwners = new Map<string, PeerOwner>();
  private gatewayPeers: DesiredPeer[] = [];
  /** hostOwners and the gateway peers' owners */
  private owners = new Map<string, PeerOwner>();
  private readonly base: Pick<DesiredHost, 'addresses' | 'routes' | 'nft'>;
  /** grows with every change of the peers list (which is updated in place) */
  private peersVersion = 0;

  constructor(readonly self: SelfConfig) {
    this.base = desiredBase(self);
  }

  /** Start over from a whole state (a snapshot). */
  reset(state: PlanState): void {
    this.hosts.clear();
    this.sortedHosts = [];
    this.held.clear();
    this.nets.clear();
    this.meshPeers.clear();
    this.local.clear();
    this.localPeers.clear();
    for (const h of state.hosts) this.hosts.set(entityKey('host', h), h);
    this.sortedHosts = [...this.hosts.values()].map((h) => h.id).sort((a, b) => a - b);
    for (const m of state.machines) if (!machineGone(m)) this.machine(undefined, m);
    for (const p of state.peers) this.peer(entityKey('peer', p), undefined, p);
    this.out = null;
    this.hostsDirty = this.gatewayDirty = this.attachDirty = this.netsDirty = true;
    this.peerDirty.clear();
  }

  /**
   * One change record, as the replica applied it: `before[i]` is what op i's
   * key held before op i. Ops on entities the plan does not read are skipped.
   */
  patch(ops: readonly ChangeOp[], before: Before): void {
    if (before.length !== ops.length) throw new Error('patch: before does not match ops');
    ops.forEach((op, i) => {
      const was = before[i];
      switch (op.entity) {
        case 'host':
          this.host(opKey(op), op.op === 'upsert' ? op.data : undefined);
          break;
        case 'machine': {
          const now = op.op === 'upsert' && !machineGone(op.data) ? op.data : undefined;
          this.machine(was as Machine | undefined, now);
          break;
        }
        case 'peer':
          this.peer(opKey(op), was as Peer | undefined, op.op === 'upsert' ? op.data : undefined);
          break;
        default:
          break;
      }
    });
  }

  private host(key: string, now: Host | undefined): void {
    const old = this.hosts.get(key);
    if (now) this.hosts.set(key, now);
    else this.hosts.delete(key);
    if (old && now && old.id === now.id && old.public_key === now.public_key && old.endpoint === now.endpoint && old.region === now.region) return;
    if (old) this.dropHostId(old.id);
    if (now) {
      const i = search(this.sortedHosts, now.id);
      if (i < 0) this.sortedHosts.splice(~i, 0, now.id);
      this.meshPeers.delete(now.id);
    }
    this.hostsDirty = true;
  }

  private dropHostId(id: number): void {
    this.meshPeers.delete(id);
    const i = search(this.sortedHosts, id);
    if (i >= 0) this.sortedHosts.splice(i, 1);
  }

  private machine(old: Machine | undefined, now: Machine | undefined): void {
    this.moved(old, now);
    const me = this.self.hostId;
    const prev = old?.host_id === me ? this.local.get(old.id) : undefined;
    if (prev) this.local.delete(old!.id);
    let next: { key: string; a: Attachment } | undefined;
    if (now?.host_id === me && now.state === 'started') {
      const key = attachmentKey(now);
      next = prev?.key === key ? prev : { key, a: attachmentOf(now, this.self) };
      this.local.set(now.id, next);
    }
    if (prev !== next) this.attachDirty = true;
  }

  private peer(key: string, old: Peer | undefined, now: Peer | undefined): void {
    this.moved(old, now);
    if (!this.self.gateway) return;
    if (this.localPeers.delete(key)) this.gatewayDirty = true;
    if (now?.host_id === this.self.hostId) {
      this.localPeers.set(key, now);
      this.gatewayDirty = true;
    }
  }

  /** A machine or peer was `old` and is `now`: count it where it is (most changes leave it where it was). */
  private moved(old: Machine | Peer | undefined, now: Machine | Peer | undefined): void {
    if (old && now && old.host_id === now.host_id && old.network_id === now.network_id) return;
    if (now) this.hold(now.host_id, now.network_id, 1);
    if (old) this.hold(old.host_id, old.network_id, -1);
  }

  /** Count a machine or peer in (+1) or out (-1) of a host's network. */
  private hold(hostId: number, networkId: number, by: 1 | -1): void {
    const n = addCount(this.held, hostId, networkId, by);
    if (n !== 0 && !(n === 1 && by === 1)) return; // the host's set of networks is the same
    let list = this.nets.get(hostId);
    if (!list) this.nets.set(hostId, (list = []));
    const i = search(list, networkId);
    if (by === 1 && i < 0) list.splice(~i, 0, networkId);
    if (by === -1 && i >= 0) list.splice(i, 1);
    if (!list.length) this.nets.delete(hostId);
    this.meshPeers.delete(hostId);
    this.peerDirty.add(hostId);
    if (hostId === this.self.hostId) this.netsDirty = true;
  }

  private meshPeer(h: Host): DesiredPeer {
    let p = this.meshPeers.get(h.id);
    if (!p) {
      const allowedIps = (this.nets.get(h.id) ?? []).map((n) => hostPrefix(n, h.id, this.self.prefix));
      this.meshPeers.set(h.id, (p = { publicKey: h.public_key, endpoint: h.endpoint, allowedIps, keepalive: 0 }));
    }
    return p;
  }

  private hostById(id: number): Host | undefined {
    return this.hosts.get(String(id));
  }

  /** The desired state; the same object while nothing it is made of changed. */
  desired(): DesiredHost {
    const out = this.out;
    if (out && !this.hostsDirty && !this.peerDirty.size && !this.gatewayDirty && !this.attachDirty && !this.netsDirty) return out;
    let peersChanged = !out;
    // The peers replaced in place (an O(change) delta for apply); null: the list was made anew.
    let touched: DesiredPeer[] | null = [];
    if (this.hostsDirty || !out) {
      this.buildHostPeers();
      peersChanged = true;
      touched = null;
    } else {
      for (const id of this.peerDirty) {
        const i = search(this.hostPeerIds, id);
        if (i < 0) continue; // not a peer of ours (this host, or a duplicate key)
        const p = this.meshPeer(this.hostById(id)!);
        if (p === this.hostPeers[i]) continue;
        // In place, not a copy of the list: a change costs the peer, not the fleet.
        this.hostPeers[i] = p;
        touched?.push(p);
        peersChanged = true;
      }
    }
    if (this.hostsDirty || this.gatewayDirty || !out) {
      this.buildGatewayPeers();
      peersChanged = true;
      touched = null;
    }
    const since = this.peersVersion;
    if (peersChanged) this.peersVersion++;
    const peers = !peersChanged ? out!.peers : this.gatewayPeers.length ? this.hostPeers.concat(this.gatewayPeers) : this.hostPeers;
    let attachments = out?.attachments ?? [];
    if (this.attachDirty || !out) attachments = [...this.local.values()].map((x) => x.a).sort((a, b) => (a.machineId < b.machineId ? -1 : 1));
    let nft = out?.nft ?? this.base.nft;
    if (this.attachDirty || this.netsDirty || !out) {
      nft = {
        ...this.base.nft,
        networks: (this.nets.get(this.self.hostId) ?? []).map((n) => networkPrefix(n, this.self.prefix)),
        attachments: attachments.map((a) => this.nftAttachment(a)),
      };
    }
    this.hostsDirty = this.gatewayDirty = this.attachDirty = this.netsDirty = false;
    this.peerDirty.clear();
    // Unchanged peers keep their version, which apply already knows: no delta to give.
    const peerDelta = peersChanged && touched ? { since, touched } : undefined;
    return (this.out = { ...this.base, peers, peersVersion: this.peersVersion, ...(peerDelta ? { peerDelta } : {}), owners: this.owners, attachments, nft });
  }

  /** The rules' view of an attachment, the same object while the attachment is (render caches by it). */
  private nftAttachment(a: Attachment): NftAttachment {
    let n = this.nftAttachments.get(a);
    if (!n) this.nftAttachments.set(a, (n = { iface: a.hostIface, address: a.address }));
    return n;
  }

  /** Developer peers this gateway carries, after the host peers (whose keys win). */
  private buildGatewayPeers(): void {
    this.gatewayPeers = [];
    this.owners = this.hostOwners;
    if (!this.self.gateway || !this.localPeers.size) return;
    const owners = (this.owners = new Map(this.hostOwners));
    for (const p of [...this.localPeers.values()].sort(byPeerAddress)) {
      if (owners.has(p.public_key)) continue;
      this.gatewayPeers.push({ publicKey: p.public_key, endpoint: null, allowedIps: [`${p.address}/128`], keepalive: 0 });
      owners.set(p.public_key, { kind: 'peer', org: p.org, name: p.name });
    }
  }

  private buildHostPeers(): void {
    const peers: DesiredPeer[] = [];
    const ids: number[] = [];
    const owners = new Map<string, PeerOwner>();
    const me = this.hostById(this.self.hostId);
    for (const id of this.sortedHosts) {
      const h = this.hostById(id)!;
      if (h.id === this.self.hostId || owners.has(h.public_key) || h.public_key === me?.public_key) continue;
      peers.push(this.meshPeer(h));
      ids.push(h.id);
      owners.set(h.public_key, { kind: 'host', hostId: h.id, region: h.region });
    }
    this.hostPeers = peers;
    this.hostPeerIds = ids;
    this.hostOwners = owners;
  }
}
