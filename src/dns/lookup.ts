// The lookup core: (index, name, type, querier) → an explicit result that the
// server maps to a packet. Pure: no I/O, no clock, no randomness (rotation is
// the server's job), so it is tested by tables (CoreDNS file/lookup.go style).
import { regionDistanceKm } from '../model/regions.js';
import type { AppIndex, DnsIndex, Instance, NetworkIndex } from './index.js';
import { HOSTMASTER, INTERNAL, NS_NAME, QTYPE } from './names.js';
import { networkDnsAddress } from '../addr/plan.js';

export type Rr =
  | { type: typeof QTYPE.AAAA; name: string; address: string }
  /** one TXT record whose value is items.join(sep); the encoder splits it at 255 bytes */
  | { type: typeof QTYPE.TXT; name: string; items: readonly string[]; sep: string }
  | { type: typeof QTYPE.PTR; name: string; target: string }
  | { type: typeof QTYPE.NS; name: string; target: string }
  | { type: typeof QTYPE.SRV; name: string; priority: number; weight: number; port: number; target: string }
  | { type: typeof QTYPE.SOA; name: string; mname: string; rname: string; serial: number };

export type LookupResult =
  | {
      kind: 'answer';
      answers: Rr[];
      /** answer order carries meaning (nearest): do not rotate */
      ordered: boolean;
      /** false when the answer depends on more than (network, name, type) */
      cacheable: boolean;
      /** the additional section (SRV targets' AAAA) */
      additional?: Rr[];
    }
  | { kind: 'nodata' | 'nxdomain'; authority: Rr[] }
  | { kind: 'refused' }
  | { kind: 'notready' }
  | { kind: 'forward' };

/** What exists at one name. An empty node is a name with no records (NODATA). */
interface Node {
  aaaa?: readonly string[];
  txt?: { items: readonly string[]; sep: string };
  ptr?: string;
  ns?: string;
  /** SRV records: port and target instance */
  srv?: readonly { port: number; target: string; address: string }[];
  soa?: boolean;
  ordered?: boolean;
  regionDependent?: boolean;
}

const EMPTY: Node = {};
const addrs = (xs: readonly Instance[]): string[] => xs.map((i) => i.address);
const TOP_RE = /^top([1-9][0-9]{0,5})$/;
const SRV_PRIORITY = 10;
const SRV_WEIGHT = 10;

/**
 * Answer one question. `qname` is case-insensitive, with or without the
 * trailing dot. `querierNetworkId` is null for a source in no network.
 */
export function lookup(index: DnsIndex, qname: string, qtype: number, querierNetworkId: number | null, querierRegion?: string | null): LookupResult {
  if (!index.ready) return { kind: 'notready' };
  if (querierNetworkId === null) return { kind: 'refused' };
  const net = index.networks.get(querierNetworkId);
  if (!net) return { kind: 'refused' };
  let name = qname.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);

  let zone: string;
  let node: Node | null;
  if (name === INTERNAL || name.endsWith('.internal')) {
    zone = INTERNAL;
    node = internalNode(index, net, name === INTERNAL ? [] : name.slice(0, -INTERNAL.length - 1).split('.'), querierRegion ?? null);
  } else if (name === index.reverseZone || name.endsWith(`.${index.reverseZone}`)) {
    zone = index.reverseZone;
    node = reverseNode(index, net, name);
  } else {
    return { kind: 'forward' };
  }
  if (qtype === QTYPE.AXFR || qtype === QTYPE.IXFR) return { kind: 'refused' };

  const soa = (): Rr => ({ type: QTYPE.SOA, name: zone, mname: NS_NAME, rname: HOSTMASTER, serial: net.serial >>> 0 });
  if (!node) return { kind: 'nxdomain', authority: [soa()] };

  const answers: Rr[] = [];
  const any = qtype === QTYPE.ANY;
  if ((any || qtype === QTYPE.SOA) && node.soa) answers.push(soa());
  if ((any || qtype === QTYPE.NS) && node.ns) answers.push({ type: QTYPE.NS, name, target: node.ns });
  if ((any || qtype === QTYPE.AAAA) && node.aaaa) for (const a of node.aaaa) answers.push({ type: QTYPE.AAAA, name, address: a });
  if ((any || qtype === QTYPE.TXT) && node.txt && node.txt.items.length > 0) answers.push({ type: QTYPE.TXT, name, items: node.txt.items, sep: node.txt.sep });
  if ((any || qtype === QTYPE.PTR) && node.ptr) answers.push({ type: QTYPE.PTR, name, target: node.ptr });
  let additional: Rr[] | undefined;
  if ((any || qtype === QTYPE.SRV) && node.srv) {
    additional = [];
    for (const s of node.srv) {
      answers.push({ type: QTYPE.SRV, name, priority: SRV_PRIORITY, weight: SRV_WEIGHT, port: s.port, target: s.target });
      additional.push({ type: QTYPE.AAAA, name: s.target, address: s.address });
    }
  }
  if (answers.length === 0) return { kind: 'nodata', authority: [soa()] };
  return { kind: 'answer', answers, ordered: node.ordered === true, cacheable: node.regionDependent !== true, ...(additional ? { additional } : {}) };
}

/** `labels` are the labels left of `internal`, leftmost first. */
function internalNode(index: DnsIndex, net: NetworkIndex, labels: string[], region: string | null): Node | null {
  const n = labels.length;
  if (n === 0) return { soa: true, ns: NS_NAME };
  const last = labels[n - 1]!;
  if (n === 1) {
    switch (last) {
      case '_apps':
        return { txt: { items: net.appNames(), sep: ',' } };
      case '_instances':
        return { txt: { items: net.instances(), sep: ';' } };
      case '_peer':
        return { txt: { items: net.peerNames(), sep: ',' } };
      case '_ns':
        return { aaaa: [networkDnsAddress(net.id, index.prefix)] };
    }
  }
  if (n === 2 && last === '_peer') {
    const p = net.peers.get(labels[0]!);
    return p ? { aaaa: [p.address] } : null;
  }
  if (n === 2 && last === '_instances' && labels[0] === 'all') return { txt: { items: net.allInstances(), sep: ';' } };
  const app = net.apps.get(last);
  if (!app) return null;
  return appNode(index, app, labels.slice(0, -1), region);
}

/** Names under `<app>.internal`; `sub` are the labels left of the app. */
function appNode(index: DnsIndex, app: AppIndex, sub: string[], region: string | null): Node | null {
  const n = sub.length;
  if (n === 0) return { aaaa: addrs(app.started) };
  const s0 = sub[0]!;
  const proto = n === 1 ? s0 : sub[1];
  if (proto === '_tcp' || proto === '_udp') return serviceNode(app, sub);
  const key = sub.slice(1).join('.');
  switch (key) {
    case '':
      switch (s0) {
        case 'global':
          return { aaaa: addrs(app.started) };
        case 'regions':
          return { txt: { items: app.regions(), sep: ',' } };
        case 'vms':
          return { txt: { items: app.vms(), sep: ',' } };
        // parents of deeper names (empty non-terminals)
        case 'vm':
        case 'process':
        case 'of':
        case '_metadata':
        case 'lease':
          return EMPTY;
      }
      {
        const inRegion = app.byRegion.get(s0);
        return inRegion ? { aaaa: addrs(inRegion) } : null;
      }
    // all.vms.<app>, all.regions.<app>: stopped machines included
    case 'vms':
      return s0 === 'all' ? { txt: { items: app.allVms(), sep: ',' } } : null;
    case 'regions':
      return s0 === 'all' ? { txt: { items: app.allRegions(), sep: ',' } } : null;
    case 'vm': {
      const i = app.findId(s0);
      return i && i !== 'ambiguous' ? { aaaa: [i.address] } : null;
    }
    case 'process': {
      const g = app.byGroup.get(s0);
      return g ? { aaaa: addrs(g) } : null;
    }
    // the lease's holder while it is started and healthy (at most one)
    case 'lease': {
      const h = app.byLease.get(s0);
      return h ? { aaaa: [h.address] } : null;
    }
    case 'of':
      return s0 === 'nearest' ? EMPTY : null;
    case 'nearest.of': {
      const m = TOP_RE.exec(s0);
      if (!m) return null;
      return { aaaa: addrs(nearest(index, app.started, region, Number(m[1]))), ordered: true, regionDependent: true };
    }
    case '_metadata':
      return s0 === 'kv' ? EMPTY : null;
    case 'kv._metadata':
      return app.metaKeys.has(s0) ? EMPTY : null;
  }
  if (n === 4 && sub[2] === 'kv' && sub[3] === '_metadata') {
    const hits = app.byMeta.get(`${sub[1]}=${s0}`);
    return hits ? { aaaa: addrs(hits) } : null;
  }
  return null;
}

/**
 * SRV names: `_<name>._tcp.<app>` and `_<name>._tcp.<region>.<app>` (and
 * `_udp`): the started, healthy instances declaring that port. `_tcp.<app>`
 * exists (NODATA) while some instance declares a port of that protocol.
 */
function serviceNode(app: AppIndex, sub: string[]): Node | null {
  const n = sub.length;
  if (n === 1) {
    const proto = sub[0]!;
    if (proto !== '_tcp' && proto !== '_udp') return null;
    for (const k of app.byService.keys()) if (k.endsWith(`.${proto}`)) return EMPTY;
    return null;
  }
  if ((n !== 2 && n !== 3) || (sub[1] !== '_tcp' && sub[1] !== '_udp')) return null;
  const all = app.byService.get(`${sub[0]}.${sub[1]}`);
  const hits = n === 3 ? all?.filter((s) => s.i.region === sub[2]) : all;
  if (!hits || hits.length === 0) return null;
  return { srv: hits.map((s) => ({ port: s.port, target: `${s.i.id}.vm.${app.name}.internal`, address: s.i.address })) };
}

/** The N instances nearest the querier's region; stable (id order) on ties and when the region is unknown. */
export function nearest(index: DnsIndex, started: readonly Instance[], region: string | null, n: number): Instance[] {
  const from = region ? index.regions.get(region) : undefined;
  if (!from) return started.slice(0, n);
  const dist = new Map<string, number>();
  const d = (code: string): number => {
    let v = dist.get(code);
    if (v === undefined) {
      const to = index.regions.get(code);
      v = to ? regionDistanceKm(from, to) : Number.POSITIVE_INFINITY;
      dist.set(code, v);
    }
    return v;
  };
  // Array.prototype.sort is stable: ties keep the id order of `started`.
  return started
    .slice()
    .sort((a, b) => d(a.region) - d(b.region))
    .slice(0, n);
}

/**
 * Names under the reverse zone. Full 32-nibble names of started machines and
 * peers in the querier's network answer PTR; shorter names on the path to
 * the querier's network exist (NODATA); everything else is NXDOMAIN.
 */
function reverseNode(index: DnsIndex, net: NetworkIndex, name: string): Node | null {
  if (name === index.reverseZone) return { soa: true, ns: NS_NAME };
  const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
  if (!labels.every((l) => l.length === 1 && /[0-9a-f]/.test(l))) return null;
  const nibbles = labels.reverse().join('');
  const own = index.prefix.toString(16).padStart(4, '0') + (net.id >>> 0).toString(16).padStart(8, '0');
  const common = Math.min(nibbles.length, own.length);
  if (nibbles.slice(0, common) !== own.slice(0, common)) return null;
  if (nibbles.length < 32) return EMPTY;
  const target = net.ptr(nibbles);
  return target ? { ptr: target } : null;
}
