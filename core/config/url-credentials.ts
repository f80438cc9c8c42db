/**
 * Credentials do not belong in pathpilot.yaml (it is committed, copied and printed by
 * `config --dump`). This finds service URLs in the file that embed a user:password (or a Redis
 * password), so loading refuses them and points at the environment variable to use instead.
 * It runs on the file's own data, before environment overrides: a URL with a password in
 * REDIS_URL or CLICKHOUSE_URL is the intended way and is accepted.
 */

type PathKey = string | number;

export interface EmbeddedCredential {
  path: PathKey[];
  /** The variable to set instead. */
  envVar: string;
}

/** Root-level URL keys with a dedicated environment variable; others use PATHPILOT__<path>. */
const dedicatedEnv: Record<string, string> = {
  'services.store.url': 'CLICKHOUSE_URL',
  'services.queue.redis_url': 'REDIS_URL',
};

function hasCredentials(value: string): boolean {
  // Only strings shaped like `scheme://…@host`: plain words, paths and host:port lists are left alone.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return true; // unparsable but has a userinfo part: treat as a secret rather than echo it back
  }
  // redis://secret@host: Redis clients read a lone userinfo as the password.
  return url.password !== '' || (/^rediss?:$/.test(url.protocol) && url.username !== '');
}

function envVarFor(path: PathKey[]): string {
  const dotted = path.join('.');
  if (dedicatedEnv[dotted]) return dedicatedEnv[dotted];
  if (path.some((k) => typeof k === 'number')) return 'an environment variable';
  return envOverrideName(path);
}

/** The `PATHPILOT__…` variable that sets `path` (array indices cannot be set that way). */
export function envOverrideName(path: readonly PathKey[]): string {
  return `PATHPILOT__${path.map((k) => String(k).toUpperCase()).join('__')}`;
}

export function findEmbeddedCredentials(data: unknown, path: PathKey[] = []): EmbeddedCredential[] {
  if (typeof data === 'string') return hasCredentials(data) ? [{ path, envVar: envVarFor(path) }] : [];
  if (Array.isArray(data)) return data.flatMap((v, i) => findEmbeddedCredentials(v, [...path, i]));
  if (typeof data === 'object' && data !== null)
    return Object.entries(data).flatMap(([k, v]) => findEmbeddedCredentials(v, [...path, k]));
  return [];
}
