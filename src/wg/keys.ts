// WireGuard keys: raw 32-byte Curve25519 keys, standard base64 (what `wg` prints).
// Made with node:crypto so no subprocess is needed and the private key never
// leaves this process except to the state dir and `wg set` (via a file).
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

// DER prefix of a PKCS#8 X25519 private key; the raw 32 bytes follow.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function decodeKey(key: string, what: string): Buffer {
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key) throw new Error(`${what} is not a base64 32-byte WireGuard key`);
  return raw;
}

/** Clamp as Curve25519 does (and as `wg genkey` prints), so keys round-trip byte-identical. */
function clamp(raw: Buffer): Buffer {
  const k = Buffer.from(raw);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k;
}

export function publicKeyOf(privateKey: string): string {
  const raw = decodeKey(privateKey, 'private key');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('x25519 public key export failed');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

export function generateKeyPair(): KeyPair {
  const privateKey = clamp(randomBytes(32)).toString('base64');
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

export function isKey(s: string): boolean {
  try {
    decodeKey(s, 'key');
    return true;
  } catch {
    return false;
  }
}
