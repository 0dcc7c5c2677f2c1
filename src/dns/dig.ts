// `sixpn dig`: one lookup against a snapshot of the store, with the same core
// the DNS servers use (lookup.ts), answered as JSON records instead of a
// packet. Pure but for building the index from the state it is given.
import { DEFAULT_PREFIX } from '../addr/plan.js';
import type { State } from '../model/types.js';
import { Replica } from '../feed/replica.js';
import { buildIndex } from './index.js';
import { lookup, type Rr } from './lookup.js';
import { QTYPE } from './names.js';

export const DIG_TYPES = ['AAAA', 'TXT', 'PTR', 'NS', 'SOA', 'A', 'SRV'] as const;
export type DigType = (typeof DIG_TYPES)[number];

export interface DigRecord {
  name: string;
  type: string;
  ttl: number;
  data: string;
}
export interface DigAnswer {
  name: string;
  type: DigType;
  status: 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'SERVFAIL';
  answers: DigRecord[];
  authority: DigRecord[];
}

const TYPE_NAME = new Map<number, string>(Object.entries(QTYPE).map(([k, v]) => [v, k]));

/** TXT as dig shows it: quoted strings of at most 255 bytes. */
function txtData(value: string): string {
  const parts: string[] = [];
  let rest = Buffer.from(value);
  do {
    parts.push(rest.subarray(0, 255).toString());
    rest = rest.subarray(255);
  } while (rest.length);
  return parts.map((p) => JSON.stringify(p)).join(' ');
}

const fq = (n: string): string => (n.endsWith('.') ? n : `${n}.`);

function record(rr: Rr, ttl: number): DigRecord {
  const name = fq(rr.name);
  const data =
    rr.type === QTYPE.AAAA
      ? rr.address
      : rr.type === QTYPE.TXT
        ? txtData(rr.items.join(rr.sep))
        : rr.type === QTYPE.SOA
          ? `${fq(rr.mname)} ${fq(rr.rname)} ${rr.serial} 3600 600 86400 ${ttl}`
          : rr.type === QTYPE.SRV
            ? `${rr.priority} ${rr.weight} ${rr.port} ${fq(rr.target)}`
            : fq(rr.target);
  return { name, type: TYPE_NAME.get(rr.type) ?? String(rr.type), ttl, data };
}

/** Look `name` up as a machine of network `networkId` would. */
export function dig(state: { rev: number; state: State }, networkId: number, name: string, type: DigType, ttl = 5, prefix = DEFAULT_PREFIX): DigAnswer {
  const replica = new Replica();
  replica.applySnapshot(state.rev, state.state);
  const r = lookup(buildIndex(replica, prefix), name, QTYPE[type], networkId, null);
  const base = { name: name.endsWith('.') ? name : `${name}.`, type };
  switch (r.kind) {
    case 'answer':
      return { ...base, status: 'NOERROR', answers: r.answers.map((rr) => record(rr, ttl)), authority: [] };
    case 'nodata':
      return { ...base, status: 'NOERROR', answers: [], authority: r.authority.map((rr) => record(rr, ttl)) };
    case 'nxdomain':
      return { ...base, status: 'NXDOMAIN', answers: [], authority: r.authority.map((rr) => record(rr, ttl)) };
    case 'notready':
      return { ...base, status: 'SERVFAIL', answers: [], authority: [] };
    default:
      return { ...base, status: 'REFUSED', answers: [], authority: [] }; // refused, or a name outside .internal (servers forward those)
  }
}
