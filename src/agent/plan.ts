// The reconciler's pure half: the desired state (src/agent/desired.ts) and,
// from what the devices report, the actions that bring them there. Same
// inputs, same plan; src/agent/apply.ts carries a plan out over ports.
import type { ReplicaUpdate } from '../feed/replica.js';
import { canonicalCidr } from '../netlink/ip.js';
import { renderReplace, type NftSpec } from '../nft/render.js';
import type { DeviceSettings } from '../wg/cli.js';
import { diffPeers, type DesiredPeer, type PeerChange } from '../wg/diff.js';
import type { WgPeerInfo } from '../wg/dump.js';
import type { DesiredHost, SelfConfig } from './desired.js';
import { DesiredIndex, type PlanState } from './desired-index.js';

export type { PlanState };

/**
 * Keeps the host's desired state in step with the replica: a change record
 * patches it (src/agent/desired-index.ts, O(change)); a snapshot, or an
 * update without what its keys held before, makes the next read rebuild it
 * from the whole state.
 */
export class Planner {
  private readonly index: DesiredIndex;
  private stale = true;

  constructor(readonly self: SelfConfig) {
    this.index = new DesiredIndex(self);
  }

  note(u: ReplicaUpdate): void {
    if (this.stale) return; // the next read rebuilds from the replica as it is then
    if (u.ops === null || !u.before) {
      this.stale = true;
      return;
    }
    try {
      this.index.patch(u.ops, u.before);
    } catch {
      this.stale = true; // a patch bug must not leave the host on a wrong plan: rebuild
    }
  }

  desired(read: () => PlanState): DesiredHost {
    if (this.stale) {
      this.index.reset(read());
      this.stale = false;
    }
    return this.index.desired();
  }
}

const rendered = new WeakMap<NftSpec, string>();

/** The rules to write, and whether they differ from what was written last. */
export function planNft(spec: NftSpec, written: string | null): { text: string; write: boolean } {
  // The planner hands out the same spec object until it changes: render it once.
  let text = rendered.get(spec);
  if (text === undefined) rendered.set(spec, (text = renderReplace(spec)));
  return { text, write: text !== written };
}

/** What the device's own settings need (empty: nothing). */
export function planDevice(have: { privateKey: string | null; listenPort: number }, want: { privateKey: string; listenPort: number }): DeviceSettings {
  const set: DeviceSettings = {};
  if (have.privateKey !== want.privateKey) set.privateKey = want.privateKey;
  if (have.listenPort !== want.listenPort) set.listenPort = want.listenPort;
  return set;
}

export interface PeerPlan {
  changes: PeerChange[];
  added: string[];
  removed: string[];
  changed: string[];
}

/** Desired vs device peers (src/wg/diff.ts), with who is added, removed or changed. */
export function planPeers(want: readonly DesiredPeer[], have: readonly WgPeerInfo[], nowS: number): PeerPlan {
  const changes = diffPeers(want, have, nowS);
  const keys = (k: PeerChange['kind']): string[] => changes.filter((c) => c.kind === k).map((c) => (c.kind === 'add' ? c.peer.publicKey : c.publicKey));
  return { changes, added: keys('add'), removed: keys('remove'), changed: keys('update') };
}

/**
 * A new device has no sessions, but its peers still hold sessions with the
 * old one and would only notice after ~15 s (REKEY_TIMEOUT + keepalive).
 * Setting a persistent keepalive makes the device send one at once, which
 * starts a handshake; the next (forced) pass diffs the keepalive back off.
 */
export function planKick(want: readonly DesiredPeer[]): PeerChange[] {
  return want.filter((p) => p.endpoint !== null && p.keepalive === 0).map((p) => ({ kind: 'update' as const, publicKey: p.publicKey, keepalive: 25 }));
}

/** MTU and up for the device link (null: already so). */
export function planLinkSettings(mtu: number, have: { mtu: number; up: boolean }): { mtu: number; up: true } | null {
  return have.mtu !== mtu || !have.up ? { mtu, up: true } : null;
}

/** The addresses (or routes) in `want` the device link lacks; `have` is canonical. */
export function planMissing(want: readonly string[], have: Iterable<string>): string[] {
  const set = new Set(have);
  return want.filter((c) => !set.has(canonicalCidr(c)));
}

export type { DesiredHost };
