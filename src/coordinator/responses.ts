// Response schemas: the shapes in src/model/types.ts as JSON schemas. Fastify
// serializes answers through them (fast-json-stringify: faster, and a field not
// listed here never leaves the coordinator), and the OpenAPI spec reads them.
// Kept apart from schemas.ts (input rules) on purpose.
import type { FastifyInstance } from 'fastify';
import { ERROR_STATUS } from '../errors.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const time = { type: 'string', description: 'ISO 8601 time' } as const;
const nullable = (type: 'string' | 'integer'): { type: string[] } => ({ type: [type, 'null'] });

/** An object whose every listed property is present. */
function record(id: string, description: string, properties: Record<string, unknown>): Record<string, unknown> {
  return { $id: id, description, type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** The same record with these properties optional (absent in records saved by older versions). */
function optional(schema: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  return { ...schema, required: (schema.required as string[]).filter((n) => !names.includes(n)) };
}

const MACHINE_HEALTH_FIELDS = {
  checks: {
    type: 'array',
    items: { type: 'object', properties: { type: { type: 'string', enum: ['tcp', 'http'] }, port: int, path: str }, required: ['type', 'port'] },
    description: 'health checks its host runs',
  },
  check_interval: { ...int, description: 'seconds between check rounds' },
  health: { type: 'string', enum: ['passing', 'critical', 'none'], description: 'critical machines leave DNS (but for the all. forms)' },
  ports: {
    type: 'array',
    items: { type: 'object', properties: { name: str, port: int, protocol: { type: 'string', enum: ['tcp', 'udp'] } }, required: ['name', 'port', 'protocol'] },
    description: 'named service ports (SRV)',
  },
  leases: { type: 'array', items: str, description: 'names of the app-wide leases it holds' },
  metadata_rev: { ...int, description: 'grows with every metadata write (If-Match)' },
};

const ref = (id: string): { $ref: string } => ({ $ref: `${id}#` });
const list = (id: string): Record<string, unknown> => ({ type: 'array', items: ref(id) });

export const ENTITY_SCHEMAS: Record<string, unknown>[] = [
  record('Region', 'A region hosts can be enrolled in', { code: str, name: str, latitude: { type: 'number' }, longitude: { type: 'number' } }),
  record('Org', 'An organization: its own default network, apps and peers', {
    name: str,
    network_id: { ...int, description: 'id of the default network' },
    created_at: time,
  }),
  record('Network', 'A /48 of fdaa::/16 inside an org', {
    id: { ...int, description: 'fdaa:N:N::/48' },
    org: str,
    name: { ...str, description: '"default" or the custom network\'s name' },
    created_at: time,
  }),
  record('App', 'A named group of machines in one network', { name: str, org: str, network_id: int, created_at: time }),
  record('Host', 'A server running the agent, carrying machines (and peers when a gateway)', {
    id: int,
    region: str,
    endpoint: { ...str, description: 'HOST:PORT of its WireGuard port' },
    public_key: str,
    gateway: { type: 'boolean' },
    version: { ...nullable('string'), description: 'the sixpn version its agent last reported' },
    created_at: time,
  }),
  record('HostListed', 'A host as hosts list shows it: the record, its current credential and whether it is heard from', {
    id: int,
    region: str,
    endpoint: { ...str, description: 'HOST:PORT of its WireGuard port' },
    public_key: str,
    gateway: { type: 'boolean' },
    version: { ...nullable('string'), description: 'the sixpn version its agent last reported' },
    created_at: time,
    credential_id: { ...nullable('string'), description: 'id of its current host credential (tokens revoke ID)' },
    last_seen: { ...nullable('string'), description: 'ISO 8601 time of its last heartbeat or enrollment' },
    status: { type: 'string', enum: ['reachable', 'unreachable'], description: 'unreachable: silent past the host timeout; it gets no new machines or peers' },
    report: { anyOf: [ref('HostReport'), { type: 'null' }], description: 'what its agent last reported with its heartbeat; null: never (or an older agent)' },
  }),
  record('FeedLag', 'How far a replica trailed the coordinator when its host last reported', {
    rev: { ...int, description: 'the revision it had applied' },
    coordinator_rev: { ...int, description: "the coordinator's revision when the report arrived" },
    lag: { ...int, description: 'revisions behind' },
    lag_s: {
      ...nullable('integer'),
      description: 'how long the oldest change it had not applied had been committed (0: caught up; null: no longer in the change log)',
    },
    last_change_s: { ...nullable('integer'), description: 'seconds since it last applied a change; null: nothing yet' },
  }),
  record('HostReport', "A host's last heartbeat report: its WireGuard handshakes with the other hosts, its agent's and DNS server's feed lag", {
    reported_at: time,
    agent: ref('FeedLag'),
    dns: { anyOf: [ref('FeedLag'), { type: 'null' }], description: "the host's DNS server; null when its agent serves none" },
    peers: {
      type: 'array',
      description: 'the other hosts as its WireGuard device sees them (wg show dump)',
      items: {
        type: 'object',
        properties: {
          host_id: int,
          handshake_age_s: { ...nullable('integer'), description: 'seconds since the latest handshake; null: none' },
          latest_handshake: { ...nullable('string'), description: "ISO 8601 time (the coordinator's clock); null: none" },
          endpoint: nullable('string'),
          rx_bytes: int,
          tx_bytes: int,
          sending: { type: 'boolean', description: 'its tx bytes grew in the last 30 s (data or handshake attempts)' },
        },
        required: ['host_id', 'handshake_age_s', 'latest_handshake', 'endpoint', 'rx_bytes', 'tx_bytes', 'sending'],
        additionalProperties: false,
      },
    },
  }),
  optional(
    record('Machine', "A machine on a host, with an address in its app's network", {
      id: { ...str, description: '14 lowercase hex characters' },
      app: str,
      org: str,
      network_id: int,
      host_id: int,
      region: str,
      address: str,
      state: { type: 'string', enum: ['created', 'started', 'stopped', 'destroyed', 'failed', 'lost'] },
      reason: { ...nullable('string'), description: 'why the host could not realize the machine (state failed)' },
      group: str,
      metadata: { type: 'object', additionalProperties: str },
      command: { type: ['array', 'null'], items: str, description: "argv the host's agent runs inside the machine (machines run)" },
      created_at: time,
      updated_at: time,
      attached_at: { ...nullable('string'), description: 'when its host last reported it attached (null before, and after a stop)' },
      ...MACHINE_HEALTH_FIELDS,
    }),
    ...Object.keys(MACHINE_HEALTH_FIELDS),
  ),
  record('Lease', 'An app-wide lease: at most one holder; fence grows with every new holder', {
    app: str,
    name: str,
    holder: { ...nullable('string'), description: 'machine id; null when free' },
    expires_at: { ...nullable('string'), description: 'ISO 8601 time' },
    fence: int,
  }),
  record('Peer', 'A developer WireGuard peer, carried by a gateway host', {
    org: str,
    name: str,
    network_id: int,
    host_id: { ...int, description: 'gateway host' },
    region: str,
    index: int,
    address: str,
    public_key: str,
    app: { ...nullable('string'), description: 'when set, the peer is also an instance of this app' },
    created_at: time,
    expires_at: { ...nullable('string'), description: 'an ephemeral peer (--ttl) is removed at this time' },
  }),
  record('PeerStatus', 'What the gateway last reported about a peer', {
    latest_handshake: { ...int, description: 'unix seconds, 0 when never' },
    rx_bytes: int,
    tx_bytes: int,
    endpoint: nullable('string'),
    reported_at: time,
  }),
  {
    $id: 'Error',
    description: `Every error. Codes and their statuses: ${Object.entries(ERROR_STATUS)
      .map(([c, s]) => `${c} ${s}`)
      .join(', ')}`,
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: { code: { type: 'string', enum: Object.keys(ERROR_STATUS) }, message: str },
        required: ['code', 'message'],
        additionalProperties: false,
      },
    },
    required: ['error'],
    additionalProperties: false,
  },
];

const ops = {
  type: 'array',
  items: {
    type: 'object',
    description: 'upsert carries the full record in data; delete carries the key only',
    properties: {
      entity: { type: 'string', enum: ['org', 'network', 'app', 'host', 'machine', 'peer'] },
      op: { type: 'string', enum: ['upsert', 'delete'] },
      data: { type: 'object' },
      key: str,
    },
    required: ['entity', 'op'],
  },
};

const state = {
  type: 'object',
  properties: {
    regions: list('Region'),
    orgs: list('Org'),
    networks: list('Network'),
    apps: list('App'),
    hosts: list('Host'),
    machines: list('Machine'),
    peers: list('Peer'),
  },
  required: ['regions', 'orgs', 'networks', 'apps', 'hosts', 'machines', 'peers'],
};

const msg = (type: string, properties: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  properties: { type: { type: 'string', enum: [type] }, ...properties },
  required: ['type', ...Object.keys(properties)],
});

/** One line of GET /v1/watch. */
export const FEED_MESSAGE = {
  $id: 'FeedMessage',
  description: 'One NDJSON line of the change feed',
  oneOf: [
    { ...msg('snapshot', { proto: { ...int, description: 'the feed format version (FEED_PROTO)' }, rev: int, state }) },
    msg('change', { rev: int, at: time, ops }),
    msg('heartbeat', { rev: int }),
    msg('error', { code: str, message: str }),
    msg('bye', { rev: int, reason: str }),
    msg('snapshot_begin', {
      proto: { ...int, description: 'the feed format version, 2 or later (asked for in the sixpn-feed-proto request header)' },
      rev: int,
    }),
    msg('snapshot_rows', {
      kind: { type: 'string', enum: Object.keys(state.properties), description: 'which list of the state these rows belong to' },
      rows: { type: 'array', description: 'rows of that kind, in order' },
    }),
    msg('snapshot_end', { rev: int, rows: { ...int, description: 'how many rows the snapshot had (a check)' } }),
  ],
};

const peerStatusMap = {
  type: 'object',
  description: 'keyed org/name; null when the peer has no report yet',
  additionalProperties: { anyOf: [ref('PeerStatus'), { type: 'null' }] },
};

/** One line of GET /v1/ui/stream (src/ui/protocol.ts), already filtered to the token's scope. */
export const UI_MESSAGE = {
  $id: 'UiMessage',
  description: "One NDJSON line of the dashboard stream, filtered to the token's scope",
  oneOf: [
    msg('hello', { scope: str, org: nullable('string') }),
    msg('snapshot', { rev: int, state, peer_status: peerStatusMap }),
    msg('change', { rev: int, at: time, ops }),
    msg('peer_status', { status: peerStatusMap }),
    msg('heartbeat', { rev: int }),
    msg('error', { code: str, message: str }),
    msg('bye', { rev: int, reason: str }),
    msg('host_status', {
      status: {
        type: 'object',
        description: "keyed host id: its handshakes with the other hosts shown, from its agent's last report",
        additionalProperties: {
          type: 'array',
          items: { type: 'object', properties: { host_id: int, latest_handshake: nullable('string') }, required: ['host_id', 'latest_handshake'] },
        },
      },
    }),
  ],
};

export function addResponseSchemas(app: FastifyInstance): void {
  for (const s of [...ENTITY_SCHEMAS, FEED_MESSAGE, UI_MESSAGE]) app.addSchema(s);
}

/** `{ key: Schema }` — a JSON answer with these properties, all present. */
export function answer(properties: Record<string, unknown>, description = 'OK'): Record<string, unknown> {
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeof v === 'string' ? ref(v) : v]));
  return { description, type: 'object', properties: props, required: Object.keys(props), additionalProperties: false };
}

/** `{ key: Schema[] }` */
export function answerList(key: string, id: string): Record<string, unknown> {
  return answer({ [key]: list(id) });
}

/** The error answers every route may give. */
export const ERRORS = {
  '4xx': { description: 'Request refused (see Error for the codes)', ...ref('Error') },
  '5xx': { description: 'Internal error, or the store is unavailable', ...ref('Error') },
} as const;

/** Response map for one route: the success answer plus the shared errors. */
export function responses(ok: Record<string, unknown>, status = 200): Record<string, unknown> {
  return { [status]: ok, ...ERRORS };
}

export const NO_CONTENT = { 204: { description: 'Done; no body', type: 'null' }, ...ERRORS };

/** OpenAPI text of one operation: its group, one line, and who may call it. */
export function op(tag: string, summary: string, scopes: string | null): Record<string, unknown> {
  return scopes === null
    ? { tags: [tag], summary, description: 'No token needed.' }
    : { tags: [tag], summary, description: `Token scopes: ${scopes}.`, security: [{ bearer: [] }] };
}
