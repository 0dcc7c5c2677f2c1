// Names, record types and small pure helpers shared by the DNS modules.
// No dns2 here: the lookup core works on plain numbers and strings.
import { DEFAULT_PREFIX } from '../addr/plan.js';

export const QTYPE = {
  A: 1,
  NS: 2,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  SRV: 33,
  AAAA: 28,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const QCLASS_IN = 1;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** extended (needs OPT): 16 = BADVERS */
  BADVERS: 16,
} as const;

/** The forward zone's apex. */
export const INTERNAL = 'internal';
/** Name server name used in SOA MNAME and NS (underscore: cannot collide with an app name). */
export const NS_NAME = '_ns.internal';
export const HOSTMASTER = 'hostmaster.internal';

/** Reverse zone apex for a ULA prefix: fdaa → a.a.d.f.ip6.arpa */
export function reverseZone(prefix = DEFAULT_PREFIX): string {
  const hex = prefix.toString(16).padStart(4, '0');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/**
 * Expand an IPv6 text address into its 32 lowercase nibbles (no separators).
 * Returns null for anything that is not plain IPv6 text (no embedded IPv4).
 */
export function ipv6Nibbles(addr: string): string | null {
  const pct = addr.indexOf('%');
  if (pct >= 0) addr = addr.slice(0, pct);
  const dbl = addr.indexOf('::');
  let groups: string[];
  if (dbl >= 0) {
    if (addr.indexOf('::', dbl + 1) >= 0) return null;
    const head = addr.slice(0, dbl) ? addr.slice(0, dbl).split(':') : [];
    const tail = addr.slice(dbl + 2) ? addr.slice(dbl + 2).split(':') : [];
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<string>(missing).fill('0'), ...tail];
  } else {
    groups = addr.split(':');
  }
  if (groups.length !== 8) return null;
  let out = '';
  for (const g of groups) {
    if (g.length < 1 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return null;
    out += g.toLowerCase().padStart(4, '0');
  }
  return out;
}

/** `…ip6.arpa` name (no trailing dot) of an IPv6 address, or null. */
export function reverseName(addr: string): string | null {
  const n = ipv6Nibbles(addr);
  return n === null ? null : `${[...n].reverse().join('.')}.ip6.arpa`;
}

/** True for 127/8, ::1 and IPv4-mapped loopback source addresses. */
export function isLoopback(addr: string): boolean {
  if (addr.startsWith('::ffff:')) addr = addr.slice(7);
  return addr === '::1' || addr.startsWith('127.');
}

/** Split a string into ≤255-byte character-strings (TXT wire limit). */
export function splitTxt(value: string, max = 255): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [bytes];
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += max) out.push(bytes.subarray(i, Math.min(bytes.length, i + max)));
  return out;
}
