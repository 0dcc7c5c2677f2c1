// WireGuard keys: raw 32-byte X25519 keys, base64 (what `wg genkey`/`wg pubkey` use).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

// DER prefix of a PKCS#8 X25519 private key; the raw 32 bytes follow it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface KeyPair { privateKey: string; publicKey: string }

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey: priv.toString('base64'), publicKey: pub.toString('base64') };
}

export function publicKeyOf(privateKeyB64: string): string {
  const raw = Buffer.from(privateKeyB64, 'base64');
  if (raw.length !== 32) throw new Error('a WireGuard private key is 32 bytes of base64');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}
