/**
 * WireGuard keys: X25519 key pairs in WireGuard's base64 encoding (node:crypto, no wg binary needed).
 * One helper for the emulator (`/generate pki wireguard key-pair`), the overlay generator (keys for nodes
 * whose router cannot generate its own) and the twin's tunnel check (does a peer's public key match?).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

function b64urlToB64(s: string): string {
  const b = s.replace(/-/g, '+').replace(/_/g, '/');
  return b + '='.repeat((4 - (b.length % 4)) % 4);
}

/** A real X25519 key pair, base64 (WireGuard's encoding). */
export function wireguardKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'jwk' });
  const pub = publicKey.export({ format: 'jwk' });
  return { privateKey: b64urlToB64(priv.d!), publicKey: b64urlToB64(pub.x!) };
}

/** The WireGuard public key of a base64 private key (undefined when it is not a 32-byte key). */
export function wireguardPublicKey(privateKeyB64: string): string | undefined {
  const raw = Buffer.from(privateKeyB64, 'base64');
  if (raw.length !== 32) return undefined;
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return b64urlToB64(createPublicKey(key).export({ format: 'jwk' }).x!);
}

/** A 32-byte key in base64, as WireGuard writes keys (44 characters, one `=`). */
export const isWireguardKey = (s: string): boolean => /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/.test(s);
