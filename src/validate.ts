// Shared input rules (also expressed as JSON-schema patterns for the API).

export const DNS_LABEL_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const DNS_LABEL_RE = new RegExp(DNS_LABEL_PATTERN);
export const PEER_NAME_MAX = 15;
/** 32 bytes, standard base64 */
export const WG_KEY_PATTERN = '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';
export const WG_KEY_RE = new RegExp(WG_KEY_PATTERN);
export const METADATA_KEY_PATTERN = '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$';

export function isDnsLabel(s: string): boolean {
  return DNS_LABEL_RE.test(s);
}

export function isWgKey(s: string): boolean {
  return WG_KEY_RE.test(s) && Buffer.from(s, 'base64').length === 32;
}

/** HOST:PORT with HOST an IPv4, [IPv6] or DNS name, PORT 1-65535. */
export function parseEndpoint(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] ?? m[2]!;
  if (m[2] && (host.startsWith('.') || host.endsWith('-') || host.includes('..'))) return null;
  return { host, port };
}
