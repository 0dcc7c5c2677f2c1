// Desired vs actual WireGuard peers → the minimal list of changes
// (innernet's DeviceExt::diff). Pure: the caller passes the clock.
import { isIP } from 'node:net';
import { canonicalIp } from '../netlink/ip.js';
import type { WgPeerInfo } from './dump.js';
import { sortedCidrsOf } from './dump.js';

export interface DesiredPeer {
  publicKey: string;
  /** HOST:PORT; null = leave whatever the device learned (roaming peers) */
  endpoint: string | null;
  allowedIps: string[];
  /** seconds, 0 = off */
  keepalive: number;
}

export type PeerChange =
  | { kind: 'add'; peer: DesiredPeer }
  | { kind: 'update'; publicKey: string; endpoint?: string; allowedIps?: string[]; keepalive?: number }
  | { kind: 'remove'; publicKey: string };

/**
 * WireGuard keeps a session for 180 s (REJECT_AFTER_TIME) and follows a peer
 * that roams. While a handshake is that fresh we leave a differing endpoint
 * alone: the device knows better than our config where the peer is now.
 */
export const ROAM_GRACE_S = 180;

/** Split HOST:PORT; IP literals canonical so "[FDAA::1]:1" equals "[fdaa::1]:1". */
export function normalizeEndpoint(ep: string): { text: string; literal: boolean } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(ep);
  if (!m) return { text: ep, literal: false };
  const host = (m[1] ?? m[2])!;
  const port = m[3]!;
  if (isIP(host) === 6) return { text: `[${canonicalIp(host)}]:${port}`, literal: true };
  if (isIP(host) === 4) return { text: `${host}:${port}`, literal: true };
  return { text: `${host.toLowerCase()}:${port}`, literal: false };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function endpointChange(want: string | null, have: WgPeerInfo, nowS: number): string | undefined {
  if (want === null) return undefined;
  const w = normalizeEndpoint(want);
  if (have.endpoint === null) return w.text;
  // A DNS name resolves on the device; we cannot compare it, so only fill a gap.
  if (!w.literal) return undefined;
  if (normalizeEndpoint(have.endpoint).text === w.text) return undefined;
  const fresh = have.latestHandshake > 0 && nowS - have.latestHandshake < ROAM_GRACE_S;
  return fresh ? undefined : w.text;
}

export function diffPeers(desired: readonly DesiredPeer[], actual: readonly WgPeerInfo[], nowS: number): PeerChange[] {
  const have = new Map(actual.map((p) => [p.publicKey, p]));
  const want = new Map(desired.map((p) => [p.publicKey, p]));
  const removes: PeerChange[] = [];
  const updates: PeerChange[] = [];
  const adds: PeerChange[] = [];
  for (const p of actual) if (!want.has(p.publicKey)) removes.push({ kind: 'remove', publicKey: p.publicKey });
  for (const w of [...want.values()].sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1))) {
    const allowedIps = sortedCidrsOf(w.allowedIps);
    const h = have.get(w.publicKey);
    if (!h) {
      const endpoint = w.endpoint === null ? null : normalizeEndpoint(w.endpoint).text;
      adds.push({ kind: 'add', peer: { publicKey: w.publicKey, endpoint, allowedIps, keepalive: w.keepalive } });
      continue;
    }
    const u: Extract<PeerChange, { kind: 'update' }> = { kind: 'update', publicKey: w.publicKey };
    const ep = endpointChange(w.endpoint, h, nowS);
    if (ep !== undefined) u.endpoint = ep;
    if (!sameList(allowedIps, h.allowedIps)) u.allowedIps = allowedIps;
    if (w.keepalive !== h.keepalive) u.keepalive = w.keepalive;
    if (Object.keys(u).length > 2) updates.push(u);
  }
  // Removes first so an allowed IP moving between peers is free when re-added.
  return [...removes, ...updates, ...adds];
}

/** `wg set` arguments for one change (after `wg set <iface>`). */
export function changeArgs(c: PeerChange): string[] {
  switch (c.kind) {
    case 'remove':
      return ['peer', c.publicKey, 'remove'];
    case 'add': {
      const a = ['peer', c.peer.publicKey];
      if (c.peer.endpoint) a.push('endpoint', c.peer.endpoint);
      if (c.peer.keepalive) a.push('persistent-keepalive', String(c.peer.keepalive));
      if (c.peer.allowedIps.length) a.push('allowed-ips', c.peer.allowedIps.join(','));
      return a;
    }
    case 'update': {
      const a = ['peer', c.publicKey];
      if (c.endpoint !== undefined) a.push('endpoint', c.endpoint);
      if (c.keepalive !== undefined) a.push('persistent-keepalive', c.keepalive ? String(c.keepalive) : 'off');
      // `wg set … allowed-ips` replaces the whole list; "" clears it.
      if (c.allowedIps !== undefined) a.push('allowed-ips', c.allowedIps.join(','));
      return a;
    }
  }
}

/** Group changes into `wg set` argument lists of at most `batch` peers each. */
export function batchArgs(changes: readonly PeerChange[], batch: number): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < changes.length; i += batch) out.push(changes.slice(i, i + batch).flatMap(changeArgs));
  return out;
}

/**
 * From the peers a device was converged to (`prev`, by public key) to `next`,
 * without reading the device: the changes for the peers whose object is not
 * the one in `prev` (the planner shares unchanged peers between states), so
 * O(peers) identity checks and work only for what changed. Null when a change
 * needs the device's view: an endpoint that moved (roaming grace) or a new
 * peer at a DNS name (resolved before `wg` sees it). `touched`: the peers of
 * `next` not identical in `prev`, to remember once applied.
 */
export function diffDesiredPeers(
  prev: ReadonlyMap<string, DesiredPeer>,
  next: readonly DesiredPeer[],
  /** `next` holds only peers that may have changed, none removed (the planner's delta): O(delta), not O(peers) */
  o: { partial?: boolean } = {},
): { changes: PeerChange[]; touched: DesiredPeer[]; removed: string[] } | null {
  const updates: PeerChange[] = [];
  const adds: PeerChange[] = [];
  const touched: DesiredPeer[] = [];
  let kept = 0;
  for (const p of next) {
    const old = prev.get(p.publicKey);
    if (old) kept++;
    if (old === p) continue;
    touched.push(p);
    if (!old) {
      const ep = p.endpoint === null ? null : normalizeEndpoint(p.endpoint);
      if (ep && !ep.literal) return null;
      adds.push({ kind: 'add', peer: { publicKey: p.publicKey, endpoint: ep?.text ?? null, allowedIps: sortedCidrsOf(p.allowedIps), keepalive: p.keepalive } });
      continue;
    }
    if (old.endpoint !== p.endpoint) return null;
    const u: Extract<PeerChange, { kind: 'update' }> = { kind: 'update', publicKey: p.publicKey };
    if (!sameList(old.allowedIps, p.allowedIps)) {
      const allowedIps = sortedCidrsOf(p.allowedIps);
      if (!sameList(sortedCidrsOf(old.allowedIps), allowedIps)) u.allowedIps = allowedIps;
    }
    if (old.keepalive !== p.keepalive) u.keepalive = p.keepalive;
    if (Object.keys(u).length > 2) updates.push(u);
  }
  const removed: string[] = [];
  if (!o.partial && kept !== prev.size) {
    const keys = new Set(next.map((p) => p.publicKey));
    for (const k of prev.keys()) if (!keys.has(k)) removed.push(k);
  }
  const byKey = (a: PeerChange, b: PeerChange): number => {
    const ka = a.kind === 'add' ? a.peer.publicKey : a.publicKey;
    const kb = b.kind === 'add' ? b.peer.publicKey : b.publicKey;
    return ka < kb ? -1 : 1;
  };
  // Removes first so an allowed IP moving between peers is free when re-added (as diffPeers).
  if (updates.length > 1) updates.sort(byKey);
  if (adds.length > 1) adds.sort(byKey);
  const changes = removed.length ? [...removed.map((publicKey): PeerChange => ({ kind: 'remove', publicKey })), ...updates, ...adds] : updates.concat(adds);
  return { changes, touched, removed };
}
