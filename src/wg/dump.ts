// Parser for `wg show <iface> dump` (tab-separated; first line the device,
// then one line per peer). Pure, so it is table-tested.
import { canonicalCidr } from '../netlink/ip.js';

export interface WgDeviceInfo {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  fwmark: number | null;
}

export interface WgPeerInfo {
  publicKey: string;
  presharedKey: string | null;
  /** "ip:port" or "[ip6]:port" as the device reports it; null when unknown */
  endpoint: string | null;
  /** canonical CIDRs, sorted */
  allowedIps: string[];
  /** unix seconds of the latest handshake, 0 = never */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** seconds, 0 = off */
  keepalive: number;
}

export interface WgDump {
  device: WgDeviceInfo;
  peers: WgPeerInfo[];
}

const none = (s: string | undefined): string | null => (s === undefined || s === '(none)' || s === '' ? null : s);
const offOr = (s: string | undefined): number => (s === undefined || s === 'off' ? 0 : Number(s));

export function sortCidrs(list: Iterable<string>): string[] {
  return [...new Set([...list].map(canonicalCidr))].sort();
}

// Desired peers' lists are never changed once made (a change makes a new list):
// each is canonicalized once, not again at every diff that meets it.
const sortedOf = new WeakMap<readonly string[], string[]>();

/** sortCidrs of a list that is never mutated, remembered per list. */
export function sortedCidrsOf(list: readonly string[]): string[] {
  let s = sortedOf.get(list);
  if (!s) sortedOf.set(list, (s = sortCidrs(list)));
  return s;
}

export function parseDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines.shift();
  if (!head) throw new Error('empty wg dump');
  const d = head.split('\t');
  if (d.length < 4) throw new Error(`unexpected wg dump device line: ${head}`);
  const device: WgDeviceInfo = {
    privateKey: none(d[0]),
    publicKey: none(d[1]),
    listenPort: Number(d[2]),
    fwmark: d[3] === 'off' ? null : Number(d[3]),
  };
  const peers = lines.map((line): WgPeerInfo => {
    const f = line.split('\t');
    if (f.length < 8) throw new Error(`unexpected wg dump peer line: ${line}`);
    const allowed = none(f[3]);
    return {
      publicKey: f[0]!,
      presharedKey: none(f[1]),
      endpoint: none(f[2]),
      allowedIps: allowed ? sortCidrs(allowed.split(',')) : [],
      latestHandshake: Number(f[4]),
      rxBytes: Number(f[5]),
      txBytes: Number(f[6]),
      keepalive: offOr(f[7]),
    };
  });
  return { device, peers };
}
