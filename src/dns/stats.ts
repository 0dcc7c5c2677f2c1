// Query counters for the DNS server, kept off the hot path's back: a query
// costs two clock reads and a few typed-array increments (no label hashing,
// no allocation). Prometheus series are built from these arrays only when
// scraped (src/dns/metrics.ts). Pure; no prom-client here.
import { QTYPE, RCODE } from './names.js';

/** qtype label values; anything else is "other", an unparsable query "none". */
export const QTYPE_LABELS = ['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'SVCB', 'HTTPS', 'IXFR', 'AXFR', 'ANY', 'other', 'none'] as const;
const QTYPE_NUM: Record<string, number> = { ...QTYPE, CNAME: 5, MX: 15, SRV: 33, SVCB: 64, HTTPS: 65 };
const Q_OTHER = QTYPE_LABELS.indexOf('other');
const Q_NONE = QTYPE_LABELS.indexOf('none');

/** rcode label values (header rcode); "dropped": no answer was sent. */
export const RCODE_LABELS = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'other', 'dropped'] as const;
const R_OTHER = RCODE_LABELS.indexOf('other');
const R_DROPPED = RCODE_LABELS.indexOf('dropped');

export const TRANSPORT_LABELS = ['udp', 'tcp'] as const;

/** Seconds. A cached answer takes microseconds; a forwarded one up to the forward timeout. */
export const DURATION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const NQ = QTYPE_LABELS.length;
const NR = RCODE_LABELS.length;
const NB = DURATION_BUCKETS.length + 1; // + the +Inf bucket

// qtype number → label index, for the 16-bit range.
const qIndex = new Uint8Array(65536).fill(Q_OTHER);
for (const [i, name] of QTYPE_LABELS.entries()) if (QTYPE_NUM[name] !== undefined) qIndex[QTYPE_NUM[name]!] = i;
// header rcode (4 bits) → label index
const rIndex = new Uint8Array(16).fill(R_OTHER);
for (const [i, name] of RCODE_LABELS.entries()) {
  const code = (RCODE as Record<string, number>)[name];
  if (code !== undefined && code < 16) rIndex[code] = i;
}

export class DnsStats {
  /** [transport][qtype][rcode] */
  readonly queries = new Float64Array(2 * NQ * NR);
  /** [transport][bucket], not cumulative */
  readonly buckets = new Float64Array(2 * NB);
  readonly sum = new Float64Array(2);
  readonly count = new Float64Array(2);

  /** Count one handled message: qtype -1 when it could not be parsed; `reply` null when nothing was sent. */
  record(tcp: boolean, qtype: number, reply: Buffer | null, seconds: number): void {
    const t = tcp ? 1 : 0;
    const q = qtype < 0 ? Q_NONE : qIndex[qtype]!;
    const r = reply === null || reply.length < 4 ? R_DROPPED : rIndex[reply[3]! & 0x0f]!;
    this.queries[(t * NQ + q) * NR + r]!++;
    let b = 0;
    while (b < NB - 1 && seconds > DURATION_BUCKETS[b]!) b++;
    this.buckets[t * NB + b]!++;
    this.sum[t]! += seconds;
    this.count[t]!++;
  }

  /** The counts so far, zeroed here (a worker process reports them to its primary). */
  drain(): { queries: Float64Array; buckets: Float64Array; sum: Float64Array; count: Float64Array } {
    const out = { queries: this.queries.slice(), buckets: this.buckets.slice(), sum: this.sum.slice(), count: this.count.slice() };
    this.queries.fill(0);
    this.buckets.fill(0);
    this.sum.fill(0);
    this.count.fill(0);
    return out;
  }

  /** Add counts drained elsewhere (same layout). */
  add(queries: Float64Array, buckets: Float64Array, sum: Float64Array, count: Float64Array): void {
    const into = (a: Float64Array, b: Float64Array): void => {
      for (let i = 0; i < a.length && i < b.length; i++) a[i]! += b[i]!;
    };
    into(this.queries, queries);
    into(this.buckets, buckets);
    into(this.sum, sum);
    into(this.count, count);
  }

  /** Non-zero query counts with their labels. */
  *queryCounts(): Generator<[{ transport: string; qtype: string; rcode: string }, number]> {
    for (let t = 0; t < 2; t++) {
      for (let q = 0; q < NQ; q++) {
        for (let r = 0; r < NR; r++) {
          const v = this.queries[(t * NQ + q) * NR + r]!;
          if (v > 0) yield [{ transport: TRANSPORT_LABELS[t]!, qtype: QTYPE_LABELS[q]!, rcode: RCODE_LABELS[r]! }, v];
        }
      }
    }
  }

  /** Cumulative bucket counts for one transport, in DURATION_BUCKETS order then +Inf. */
  cumulative(transport: 0 | 1): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let b = 0; b < NB; b++) {
      acc += this.buckets[transport * NB + b]!;
      out.push(acc);
    }
    return out;
  }
}
