// The body of a host's heartbeat report (src/model/host-report.ts): its JSON
// schema, and the rules a schema cannot say.
import { AppError } from '../../errors.js';
import type { HostReport } from '../../model/host-report.js';
import { body } from '../schemas.js';

const count = { type: 'integer', minimum: 0 } as const;
const age = { type: ['integer', 'null'], minimum: 0 } as const;
const progress = body({ rev: count, last_change_ms: age }, ['rev', 'last_change_ms']);

/** At most this many peers: the mesh's other hosts. */
export const MAX_REPORTED_PEERS = 5000;

/** Optional: a bare heartbeat (older agents, `sixpn up` without one) sends no body. */
export const HOST_REPORT_BODY = {
  ...body(
    {
      agent: progress,
      dns: { anyOf: [progress, { type: 'null' }] },
      peers: {
        type: 'array',
        maxItems: MAX_REPORTED_PEERS,
        items: body(
          {
            host_id: { type: 'integer', minimum: 1 },
            handshake_age_s: age,
            endpoint: { type: ['string', 'null'], maxLength: 100 },
            rx_bytes: count,
            tx_bytes: count,
            sending: { type: 'boolean' },
          },
          ['host_id', 'handshake_age_s', 'endpoint', 'rx_bytes', 'tx_bytes', 'sending'],
        ),
      },
    },
    ['agent', 'dns', 'peers'],
  ),
  type: ['object', 'null'],
};

/** What the schema lets through but makes no sense: one peer reported twice. */
export function checkHostReport(r: HostReport): void {
  const seen = new Set<number>();
  for (const p of r.peers) {
    if (seen.has(p.host_id)) throw new AppError('invalid', `peers: host ${p.host_id} is reported twice`);
    seen.add(p.host_id);
  }
}
