// The wg-quick file of a developer peer (DESIGN.md "peer config shape"):
// what `wg-quick up` takes, with the private key made on the peer's machine.
// `wg-quick` runs the file as root (PostUp = …), so every field that comes
// from the API is checked before it is written: a rogue or intercepted
// answer must not be able to add a line.
import { Address6 } from 'ip-address';
import { parseEndpoint, RULES } from '../validate.js';

/** The parts of the coordinator's answer to "create a peer" that go in the file. */
export interface WgQuickPeer {
  peer: { address: string };
  gateway: { public_key: string; endpoint: string };
  dns: string;
  allowed_ips: string;
}

/** Every address a peer file may name lies in the mesh's ULA prefix. */
export const PEER_PREFIX = 'fdaa::/16';

// C0 controls, DEL and C1 controls; and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function inPrefix(ip: string, cidrLen?: number): boolean {
  if (!Address6.isValid(ip) || ip.includes('/') || ip.includes('%')) return false;
  if (cidrLen !== undefined && (!Number.isInteger(cidrLen) || cidrLen < 16 || cidrLen > 128)) return false;
  return new Address6(ip).isInSubnet(new Address6(PEER_PREFIX));
}

/** The first control character anywhere in a JSON value, as a path, or null. */
function controlPath(v: unknown, path: string): string | null {
  if (typeof v === 'string') return CONTROL.test(v) ? path : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = controlPath(v[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = CONTROL.test(k) ? `${path}.<key>` : controlPath(x, `${path}.${k}`);
      if (p) return p;
    }
  }
  return null;
}

/**
 * Why the API's answer cannot go in a wg-quick file, or null when every field
 * is what it should be: keys 32-byte base64, addresses inside fdaa::/16, the
 * endpoint HOST:PORT, and no control character (a newline adds a line) in any
 * string of the answer, including those only printed.
 */
export function peerAnswerProblem(answer: unknown): string | null {
  const bad = controlPath(answer, 'answer');
  if (bad) return `${bad} contains a control character (a newline or similar)`;
  const a = answer as Partial<WgQuickPeer> | null;
  const str = (v: unknown): v is string => typeof v === 'string';
  if (!a || typeof a !== 'object') return 'the answer is not an object';
  const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 80) ?? String(v);
  if (!a.gateway || !str(a.gateway.public_key) || !RULES.wgKey.test(a.gateway.public_key))
    return `gateway.public_key ${show(a.gateway?.public_key)} is not a WireGuard key (32 bytes, base64)`;
  if (!str(a.gateway.endpoint) || !parseEndpoint(a.gateway.endpoint)) return `gateway.endpoint ${show(a.gateway.endpoint)} is not HOST:PORT`;
  if (!a.peer || !str(a.peer.address) || !inPrefix(a.peer.address)) return `peer.address ${show(a.peer?.address)} is not an address inside ${PEER_PREFIX}`;
  if (!str(a.dns) || !inPrefix(a.dns)) return `dns ${show(a.dns)} is not a DNS server address inside ${PEER_PREFIX}`;
  if (!str(a.allowed_ips)) return `allowed_ips ${show(a.allowed_ips)} is not a list of prefixes`;
  for (const c of a.allowed_ips.split(',').map((s) => s.trim())) {
    const [ip, len, ...rest] = c.split('/');
    if (rest.length || len === undefined || !/^\d{1,3}$/.test(len) || !inPrefix(ip!, Number(len)))
      return `allowed_ips entry ${show(c)} is not a prefix inside ${PEER_PREFIX}`;
  }
  return null;
}

/** Refuses (throws) an answer peerAnswerProblem does not pass: no file from an unchecked field. */
export function renderPeerConfig(privateKey: string, c: WgQuickPeer): string {
  const problem = peerAnswerProblem(c);
  if (problem) throw new Error(`refusing to write a WireGuard config: ${problem}`);
  if (!RULES.wgKey.test(privateKey)) throw new Error('refusing to write a WireGuard config: the private key is not a WireGuard key');
  return [
    '[Interface]',
    `PrivateKey = ${privateKey}`,
    `Address = ${c.peer.address}/120`,
    `DNS = ${c.dns}`,
    '',
    '[Peer]',
    `PublicKey = ${c.gateway.public_key}`,
    `AllowedIPs = ${c.allowed_ips}`,
    `Endpoint = ${c.gateway.endpoint}`,
    'PersistentKeepalive = 15',
    '',
  ].join('\n');
}
