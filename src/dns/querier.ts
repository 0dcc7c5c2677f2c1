// Who is asking: the querier's network and region come from its source
// address (the address plan), never from anything in the packet. Memoized
// per address string; the memo is dropped whenever the index changes.
import { parseAddress } from '../addr/plan.js';
import type { DnsIndex } from './index.js';
import { isLoopback } from './names.js';

export interface Querier {
  /** null: in no network (REFUSED) */
  networkId: number | null;
  /** region of the host whose /80 holds the address; null if unknown */
  region: string | null;
}

export interface LoopbackRule {
  /** answer loopback sources as this network (`sixpn up`) */
  networkId?: number;
  /** …or as this org's default network, resolved from the index */
  org?: string;
  /** region of the `up` host, for nearest */
  region?: string;
}

const NOBODY: Querier = { networkId: null, region: null };

export class QuerierResolver {
  private memo = new Map<string, Querier>();
  private memoIndex: DnsIndex | null = null;

  constructor(private readonly loopback: LoopbackRule = {}) {}

  of(addr: string, index: DnsIndex): Querier {
    if (this.memoIndex !== index || this.memo.size > 50_000) {
      this.memo = new Map();
      this.memoIndex = index;
    }
    let q = this.memo.get(addr);
    if (!q) {
      q = this.resolve(addr, index);
      this.memo.set(addr, q);
    }
    return q;
  }

  private resolve(addr: string, index: DnsIndex): Querier {
    if (isLoopback(addr)) {
      const lb = this.loopback;
      const networkId = lb.networkId ?? (lb.org !== undefined ? (index.orgNetwork.get(lb.org) ?? null) : null);
      if (networkId === null) return NOBODY;
      return { networkId, region: lb.region ?? soleHostRegion(index) };
    }
    const p = parseAddress(addr, index.prefix);
    if (!p || !index.networks.has(p.networkId)) return NOBODY;
    return { networkId: p.networkId, region: index.hostRegion.get(p.hostId) ?? null };
  }
}

/** With a single host (a `sixpn up` install) loopback is that host. */
function soleHostRegion(index: DnsIndex): string | null {
  if (index.hostRegion.size !== 1) return null;
  return index.hostRegion.values().next().value ?? null;
}
