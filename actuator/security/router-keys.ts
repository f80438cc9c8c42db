/**
 * Router API keys pathpilot holds, and their rotation over the router's own API (issue 18, item 6),
 * make-before-break:
 *
 * 1. Find the id of the key pathpilot uses under `service https api keys id` (refuse when it is not
 *    there: keys were changed by hand, and pathpilot would not know which one to retire).
 * 2. Add a new key (32 random bytes, hex) under a new id `pathpilot-<UTC time>`. A commit touching
 *    `service https` runs in the background and answers at once (vyos-facts §1.3.5), and the API
 *    server restarts after it (vyos-1x service_https.py): the answer says nothing of the commit's fate.
 * 3. Verify that the new key reads the router, retried through the restart. Not verified: the new id
 *    is deleted with the old key, and nothing else has changed.
 * 4. Persist the new key (a file, mode 0600, written by rename) and switch every client to it, before
 *    the old key goes: a crash after this point leaves a key that works.
 * 5. Delete the old id with the new key and verify that the old key is refused. An old key still
 *    accepted is reported (`old-key-kept`) and its deletion retried at the next rotation check.
 *
 * Keys are never logged nor put in an error; the file holds them in clear (as the router does) and is
 * readable by its owner only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { VyosAuthError, type RouterApi } from '../vyos/types.ts';

const KEYS = ['service', 'https', 'api', 'keys', 'id'];

export interface StoredRouterKey {
  /** The key's id on the router (`service https api keys id <id>`). */
  id: string;
  key: string;
  /** When the key was made (epoch ms). */
  created_at: number;
  /** Ids of earlier keys whose removal is not verified yet (deleted again at the next check). */
  retired: string[];
}

const fileSchema = z
  .object({
    version: z.literal(1),
    routers: z.record(
      z.string(),
      z
        .object({
          id: z.string().min(1),
          key: z.string().min(1),
          created_at: z.string().datetime(),
          retired: z.array(z.string()).default([]),
        })
        .strict(),
    ),
  })
  .strict();

/** The rotated keys, one per router, in a JSON file only its owner reads. */
export class RouterKeyStore {
  private readonly keys = new Map<string, StoredRouterKey>();
  /** Saves run one after another: two rotations must not interleave their renames. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Reads `file` (a missing file is an empty store); a malformed one is refused with its problem. */
  static load(file: string): RouterKeyStore {
    const store = new RouterKeyStore(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`router key store ${file}: not JSON (${(err as Error).message})`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ValidationError(`router key store ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    for (const [site, k] of Object.entries(parsed.data.routers))
      store.keys.set(site, { id: k.id, key: k.key, created_at: Date.parse(k.created_at), retired: k.retired });
    return store;
  }

  get(site: string): StoredRouterKey | undefined {
    return this.keys.get(site);
  }

  entries(): ReadonlyMap<string, StoredRouterKey> {
    return this.keys;
  }

  /** Records `site`'s key and writes the whole file (temporary file, then rename: never half written). */
  async save(site: string, entry: StoredRouterKey): Promise<void> {
    this.keys.set(site, { ...entry, retired: [...entry.retired] });
    const routers = Object.fromEntries(
      [...this.keys].map(([s, k]) => [
        s,
        { id: k.id, key: k.key, created_at: new Date(k.created_at).toISOString(), retired: k.retired },
      ]),
    );
    const text = JSON.stringify({ version: 1, routers }, null, 2) + '\n';
    const write = async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.file);
    };
    const next = this.saving.then(write, write);
    this.saving = next.catch(() => undefined);
    await next;
  }
}

/** A new key: 32 random bytes as hex (no character a `set` line or a form body would need to quote). */
export function newRouterApiKey(): string {
  return randomBytes(32).toString('hex');
}

/** The id a key made at `now` gets: `pathpilot-20261206T230512Z`. */
export function routerKeyId(now: number): string {
  return `pathpilot-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`;
}

/** What the actuator needs to rotate keys: the store, and the clients the keys go into. */
export interface RouterKeyring {
  store: RouterKeyStore;
  /** The key the router's clients send now (the store's, else the site's `router.api_key_env`). */
  current(site: string): string;
  /** A separate client to the router with `key` (verification). */
  probe(site: string, key: string): RouterApi & { close?(): Promise<void> };
  /** Every later call to the router sends `key`. */
  use(site: string, key: string): void;
}

export interface KeyRotationDeps {
  site: string;
  /** The router through the client every component uses (the key in use now). */
  router: RouterApi;
  currentKey: string;
  /** A separate client with another key (verification); closed after use when it can be. */
  probe(key: string): RouterApi & { close?(): Promise<void> };
  /** Persists the entry and switches every client of the router to its key. */
  adopt(entry: StoredRouterKey): Promise<void>;
  /** Ids of earlier keys whose removal was not verified (from the store). */
  retired?: readonly string[];
  newKey?: () => string;
  wait(ms: number): Promise<void>;
  now(): number;
  /** Attempts of each verification, `intervalMs` apart (the API restarts after every key commit). */
  attempts?: number;
  intervalMs?: number;
}

export type KeyRotationResult =
  | { outcome: 'rotated' | 'old-key-kept'; site: string; id: string; retired: string[] }
  | { outcome: 'refused' | 'rolled-back'; site: string; reason: string };

/** The error's first line (router errors never carry the key). */
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/** `fn` until it returns true, at most `attempts` times; the last error (or false) when it never does. */
async function until(fn: () => Promise<boolean>, deps: KeyRotationDeps): Promise<{ ok: true } | { ok: false; reason: string }> {
  const attempts = deps.attempts ?? 10;
  let reason = 'not verified';
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await deps.wait(deps.intervalMs ?? 1000);
    try {
      if (await fn()) return { ok: true };
      reason = 'not verified';
    } catch (err) {
      reason = firstLine(err);
    }
  }
  return { ok: false, reason };
}

/** True when `key` is refused by the router (401/403): the way to know an old key is gone. */
async function refused(api: RouterApi): Promise<boolean> {
  try {
    await api.exists([]);
    return false;
  } catch (err) {
    if (err instanceof VyosAuthError) return true;
    throw err;
  }
}

/** Deletes `ids` with `api` (the ones still configured) and checks each is gone; returns the ones that stay. */
async function removeKeys(api: RouterApi, ids: readonly string[], deps: KeyRotationDeps): Promise<string[]> {
  const left: string[] = [];
  for (const id of ids) {
    const gone = await until(async () => {
      if (!(await api.exists([...KEYS, id]))) return true;
      await api.configure([{ op: 'delete', path: [...KEYS, id] }]);
      return !(await api.exists([...KEYS, id]));
    }, deps);
    if (!gone.ok) left.push(id);
  }
  return left;
}

export async function rotateRouterApiKey(deps: KeyRotationDeps): Promise<KeyRotationResult> {
  const { site } = deps;
  // 1. Which configured id holds the key in use.
  let configured: Record<string, { key?: string }>;
  try {
    configured = ((await deps.router.showConfig(KEYS)) ?? {}) as Record<string, { key?: string }>;
  } catch (err) {
    return { outcome: 'refused', site, reason: `cannot read the router's API keys: ${firstLine(err)}` };
  }
  const oldId = Object.entries(configured).find(([, v]) => v.key === deps.currentKey)?.[0];
  if (oldId === undefined)
    return {
      outcome: 'refused',
      site,
      reason: 'the key in use is not under service https api keys (changed by hand?): rotate it by hand',
    };

  // 2. The new key beside the old one.
  const now = deps.now();
  let id = routerKeyId(now);
  for (let n = 2; id in configured; n++) id = `${routerKeyId(now)}-${n}`;
  const key = (deps.newKey ?? newRouterApiKey)();
  try {
    await deps.router.configure([{ op: 'set', path: [...KEYS, id, 'key'], value: key }]);
  } catch (err) {
    return { outcome: 'refused', site, reason: `adding the new key failed: ${firstLine(err)}` };
  }

  const probe = deps.probe(key);
  const oldProbe = deps.probe(deps.currentKey);
  try {
    // 3. The new key reads the router (the commit ran in the background; the API restarted after it).
    const works = await until(() => probe.exists([...KEYS, id]), deps);
    if (!works.ok) {
      const left = await removeKeys(deps.router, [id], deps);
      return {
        outcome: 'rolled-back',
        site,
        reason: `the new key was not accepted (${works.reason})${left.length ? '; its removal is not verified either' : ''}`,
      };
    }
    // 4. Durable and in use before the old key goes.
    const retiring = [...new Set([...(deps.retired ?? []), oldId])];
    try {
      await deps.adopt({ id, key, created_at: now, retired: retiring });
    } catch (err) {
      const left = await removeKeys(deps.router, [id], deps);
      return {
        outcome: 'rolled-back',
        site,
        reason: `the new key could not be stored (${firstLine(err)})${left.length ? '; its removal is not verified either' : ''}`,
      };
    }
    // 5. The old key (and any earlier one left over) removed, with the new key, and refused.
    const left = await removeKeys(probe, retiring, deps);
    const oldRefused = left.includes(oldId) ? { ok: false as const, reason: '' } : await until(() => refused(oldProbe), deps);
    const kept = oldRefused.ok ? left : [...new Set([...left, oldId])];
    if (kept.length !== retiring.length) await deps.adopt({ id, key, created_at: now, retired: kept });
    return { outcome: kept.length === 0 ? 'rotated' : 'old-key-kept', site, id, retired: kept };
  } finally {
    await Promise.all([probe.close?.(), oldProbe.close?.()]);
  }
}
