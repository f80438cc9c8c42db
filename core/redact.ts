/**
 * Secrets inside structured values that leave the actuator (audit details, the proposal API): IPsec
 * pre-shared keys travel in `ipsec-peer` intents, and a rollout's snapshots hold router subtrees with
 * WireGuard private keys and PSKs in them. Those values are replaced wherever they sit; the records in the
 * state store keep them (a rollback must restore them).
 */

/** Config and intent keys whose values are secret. */
const SECRET_KEYS = new Set([
  'private-key',
  'preshared-key',
  'secret',
  'password',
  'private_key',
  'privateKey',
  'passphrase',
  'shared_secret',
  // `pki openvpn shared-secret X key`, `service https api keys id X key`: every config leaf named key is one.
  'key',
]);
export const REDACTED = '[redacted]';

/** Whether a config or intent key holds a secret value (what `redactSecrets` and `redactCommandLine` hide). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key);
}

/**
 * A deep copy of `value` with every secret-keyed value replaced by `[redacted]`: object keys, a config
 * path's word after a secret key (`[…, 'secret', 'psk']`), and the `value` of an op whose path ends in one.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value))
    return value.map((v, i) =>
      typeof v === 'string' && SECRET_KEYS.has(String(value[i - 1])) ? REDACTED : redactSecrets(v),
    ) as T;
  if (value && typeof value === 'object') {
    const path = (value as { path?: unknown }).path;
    const opOnSecret = Array.isArray(path) && SECRET_KEYS.has(String(path[path.length - 1]));
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEYS.has(k) || (opOnSecret && k === 'value') ? REDACTED : redactSecrets(v),
      ]),
    ) as T;
  }
  return value;
}

/** A secret word of a `set …` line and the value after it (quoted or bare). */
const SECRET_IN_LINE = new RegExp(`(\\s(?:${[...SECRET_KEYS].join('|')})\\s)('[^']*'|"[^"]*"|\\S+)`, 'g');

/** A `set …` command line with every value after a secret word replaced (GitOps export, messages). */
export function redactCommandLine(line: string): string {
  return line.replace(SECRET_IN_LINE, `$1'${REDACTED}'`);
}
