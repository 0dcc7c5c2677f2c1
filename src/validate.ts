// The input rules, declared once: each is a JSON-schema string fragment (the
// coordinator's fastify schemas are built from it), a test (the machine API
// and the CLI call it) and a hint for error messages. Change a rule here and
// every door changes with it.
import { isIPv4, isIPv6 } from 'node:net';

/** The JSON-schema shape of a string rule (what fastify's ajv checks). */
export interface StringSchema {
  readonly type: 'string';
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface InputRule {
  /** what the value is, for messages: "metadata value" */
  readonly what: string;
  /** what a good value looks like: "1-255 printable characters without spaces" */
  readonly hint: string;
  readonly schema: StringSchema;
  test(value: string): boolean;
  /** `metadata value "a b" must be 1-255 printable characters without spaces` */
  explain(value: string): string;
}

function rule(what: string, hint: string, schema: Omit<StringSchema, 'type'>, extra?: (s: string) => boolean): InputRule {
  const s: StringSchema = { type: 'string', ...schema };
  const re = s.pattern === undefined ? null : new RegExp(s.pattern);
  return {
    what,
    hint,
    schema: s,
    test: (v) =>
      (s.minLength === undefined || v.length >= s.minLength) &&
      (s.maxLength === undefined || v.length <= s.maxLength) &&
      (re === null || re.test(v)) &&
      (extra === undefined || extra(v)),
    explain: (v) => `${what} ${JSON.stringify(v)} must be ${hint}`,
  };
}

export const DNS_LABEL_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const PEER_NAME_MAX = 15;
/** 32 bytes, standard base64 */
export const WG_KEY_PATTERN = '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';
export const METADATA_KEY_PATTERN = '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$';
const LABEL_HINT = "a DNS label (a-z, 0-9, '-', 1-63 chars, no leading or trailing '-')";

export const RULES = {
  /** org, app, network and group names */
  label: rule('name', LABEL_HINT, { pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: 63 }),
  region: rule('region', 'a region code (a DNS label such as ams)', { pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: 63 }),
  /** a developer peer's name: a DNS label short enough for an interface name */
  peerName: rule('peer name', `a DNS label of at most ${PEER_NAME_MAX} characters`, { pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: PEER_NAME_MAX }),
  wgKey: rule('WireGuard key', 'a WireGuard key (32 bytes, base64)', { pattern: WG_KEY_PATTERN }, (s) => Buffer.from(s, 'base64').length === 32),
  machineId: rule('machine id', '14 hex chars (0-9, a-f)', { pattern: '^[0-9a-f]{14}$' }),
  metadataKey: rule('metadata key', "lowercase a-z, 0-9, '-', '_' (1-63 chars, no leading or trailing '-' or '_')", {
    pattern: METADATA_KEY_PATTERN,
    maxLength: 63,
  }),
  metadataValue: rule('metadata value', '1-255 printable characters without spaces', { maxLength: 255, pattern: '^[\\x21-\\x7e]+$' }),
  /** HOST:PORT; the schema bounds the length, parseEndpoint checks the shape */
  endpoint: rule('endpoint', 'HOST:PORT', { minLength: 3, maxLength: 261 }, (s) => parseEndpoint(s) !== null),
} as const satisfies Record<string, InputRule>;

/** At most this many metadata keys on one machine. */
export const METADATA_MAX_KEYS = 64;

export const isDnsLabel = (s: string): boolean => RULES.label.test(s);
export const isWgKey = (s: string): boolean => RULES.wgKey.test(s);
export const isMachineId = (s: string): boolean => RULES.machineId.test(s);
export const isMetadataKey = (s: string): boolean => RULES.metadataKey.test(s);
export const isMetadataValue = (s: string): boolean => RULES.metadataValue.test(s);

/** HOST:PORT with HOST an IPv4, [IPv6] or DNS name, PORT 1-65535. */
export function parseEndpoint(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && !isIPv6(host)) return null;
  // A DNS name (the agent resolves it): labels of 1-63 chars, no leading or trailing '-'.
  if (m[2] !== undefined && host.length > 253) return null;
  if (
    m[2] !== undefined &&
    !host
      .replace(/\.$/, '')
      .split('.')
      .every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))
  )
    return null;
  // All digits and dots is meant as IPv4: it must be one (no "999.1.1.1" sent to the resolver).
  if (m[2] !== undefined && /^[0-9.]+$/.test(host) && !isIPv4(host)) return null;
  return { host, port };
}

/** The longest --ttl of a token or an ephemeral peer (365 days); without one they do not expire. */
export const TTL_MAX_SECONDS = 365 * 86400;
// ── health checks, service ports and leases (issue 12) ─────────────────────

/** A health check the machine's host runs against the machine's address. */
export type CheckSpec = { type: 'tcp'; port: number } | { type: 'http'; port: number; path: string };
/** A named service port, published as SRV `_NAME._PROTO.<app>.internal`. */
export interface PortSpec {
  name: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

export const CHECKS_MAX = 8;
export const PORTS_MAX = 16;
export const CHECK_INTERVAL_DEFAULT = 5;
/** seconds */
export const CHECK_INTERVAL_MIN = 1;
export const CHECK_INTERVAL_MAX = 3600;
export const LEASE_TTL_MIN = 1;
export const LEASE_TTL_MAX = 300;
/** RFC 6335 service names are at most 15 characters */
export const SERVICE_NAME_MAX = 15;

const portNumber = (s: string): number | null => (/^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : null);

/** Why a check spec is bad, or null; specs are `tcp:PORT` or `http:PORT/PATH`. */
export function parseCheck(s: string): CheckSpec | string {
  const m = /^([a-z0-9]+):(\d+)(\/.*)?$/.exec(s);
  if (!m) return `check ${JSON.stringify(s)} must be tcp:PORT or http:PORT/PATH`;
  const [, kind, portText, path] = m;
  if (kind !== 'tcp' && kind !== 'http') return `check ${JSON.stringify(s)}: unknown check kind ${JSON.stringify(kind)} (tcp or http)`;
  const port = portNumber(portText!);
  if (port === null) return `check ${JSON.stringify(s)}: port must be 1-65535`;
  if (kind === 'tcp') return path === undefined ? { type: 'tcp', port } : `check ${JSON.stringify(s)}: a tcp check has no path`;
  const p = path ?? '/';
  if (p.length > 1024 || !/^\/[\x21-\x7e]*$/.test(p))
    return `check ${JSON.stringify(s)}: path must be printable, without spaces or control characters (at most 1024)`;
  return { type: 'http', port, path: p };
}

/** `NAME:PORT[/tcp|/udp]` */
export function parsePort(s: string): PortSpec | string {
  const m = /^([^:]*):(\d+)(?:\/([a-z]+))?$/.exec(s);
  if (!m) return `port ${JSON.stringify(s)} must be NAME:PORT[/tcp|/udp]`;
  const [, name, portText, proto] = m;
  if (!RULES.label.test(name!) || name!.length > SERVICE_NAME_MAX)
    return `port ${JSON.stringify(s)}: name must be a DNS label of at most ${SERVICE_NAME_MAX} characters`;
  const port = portNumber(portText!);
  if (port === null) return `port ${JSON.stringify(s)}: port must be 1-65535`;
  if (proto !== undefined && proto !== 'tcp' && proto !== 'udp') return `port ${JSON.stringify(s)}: protocol must be tcp or udp`;
  return { name: name!, port, protocol: proto === 'udp' ? 'udp' : 'tcp' };
}

/** Parse every item, or the first reason one is bad; `max` bounds the count. */
export function parseAll<T>(items: readonly string[], parse: (s: string) => T | string, what: string, max: number): T[] | string {
  if (items.length > max) return `at most ${max} ${what}s, got ${items.length}`;
  const out: T[] = [];
  for (const s of items) {
    const v = parse(s);
    if (typeof v === 'string') return v;
    out.push(v);
  }
  return out;
}

export const checkText = (c: CheckSpec): string => (c.type === 'tcp' ? `tcp:${c.port}` : `http:${c.port}${c.path}`);
export const portText = (p: PortSpec): string => `${p.name}:${p.port}/${p.protocol}`;

/** A lease name is a DNS label (it becomes `NAME.lease.<app>.internal`). */
export const isLeaseName = (s: string): boolean => RULES.label.test(s);
