// The per-org quota flags of `sixpn coordinator` and `sixpn up`: one spec
// list for the command table, one parser (an integer in range, else exit 2).
import { DEFAULT_QUOTAS, QUOTA_MAX, QUOTA_MIN, type QuotaKind, type Quotas } from '../store/quotas.js';
import { str } from './ctx.js';
import { intIn } from './flags.js';
import type { FlagSpec, Flags } from './spec.js';

const KINDS: readonly QuotaKind[] = ['machines', 'networks', 'peers', 'tokens'];

const WHAT: Record<QuotaKind, string> = {
  machines: 'live machines',
  networks: 'networks (the default one included)',
  peers: 'developer peers',
  tokens: 'live (unrevoked, unexpired) org and wireguard tokens',
};

export const QUOTA_FLAGS: FlagSpec[] = KINDS.map((k) => ({
  name: `quota-${k}`,
  value: 'N',
  help: `most ${WHAT[k]} per org (over it: 429 quota_exceeded)`,
  default: String(DEFAULT_QUOTAS[k]),
}));

/** The quotas given on the command line (the others keep their defaults). */
export function quotaFlags(f: Flags): Partial<Quotas> {
  const out: Partial<Quotas> = {};
  for (const k of KINDS) {
    const v = str(f, `quota-${k}`);
    if (v !== undefined) out[k] = intIn(v, `quota-${k}`, QUOTA_MIN, QUOTA_MAX);
  }
  return out;
}
