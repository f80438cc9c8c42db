/**
 * The README's first command is `npm ci`, and it refuses a lock file that lacks any platform's optional
 * package (npm/cli#4828: `npm install` on one platform may write a lock without the others'). Nor may a
 * locked package demand a newer Node than `engines` promises. Both are checked here on the committed files,
 * so a regenerated lock that would break a user's install fails the suite, not the user.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  engines?: Record<string, string> | string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as { packages: Record<string, LockEntry> };

/** Where Node would find `name` from the package at `location` (nearest node_modules up the tree). */
function resolveFrom(location: string, name: string): string | undefined {
  let at = location;
  for (;;) {
    const candidate = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!at) return undefined;
    const cut = at.lastIndexOf('/node_modules/');
    at = cut < 0 ? '' : at.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('locks every optional platform package, for every platform, at the version its parent asks for', () => {
    const missing: string[] = [];
    const wrongVersion: string[] = [];
    let platformPackages = 0;
    for (const [location, entry] of Object.entries(lock.packages)) {
      for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
        // fsevents-style optionals that the parent's tree resolves elsewhere are fine; a missing entry is not.
        const found = resolveFrom(location, name);
        if (!found) {
          missing.push(`${location || '(root)'} → ${name}@${range}`);
          continue;
        }
        const locked = lock.packages[found]!;
        if (locked.os || locked.cpu) platformPackages++;
        if (locked.version && !semver.satisfies(locked.version, range, { includePrerelease: true }))
          wrongVersion.push(`${name}: locked ${locked.version}, ${location} wants ${range}`);
      }
    }
    expect(missing).toEqual([]);
    expect(wrongVersion).toEqual([]);
    // chdb (4), rollup (26) and msgpackr-extract (6) ship per-platform binaries: all must be there.
    expect(platformPackages).toBeGreaterThanOrEqual(36);
  });

  it('holds the platform builds of the native packages for Linux x64 and arm64 and macOS', () => {
    const names = Object.keys(lock.packages);
    for (const wanted of [
      'node_modules/@chdb/lib-linux-x64-gnu',
      'node_modules/@chdb/lib-linux-arm64-gnu',
      'node_modules/@chdb/lib-darwin-arm64',
      'node_modules/@chdb/lib-darwin-x64',
      'node_modules/@rollup/rollup-linux-arm64-gnu',
      'node_modules/@rollup/rollup-darwin-arm64',
      'node_modules/@msgpackr-extract/msgpackr-extract-darwin-arm64',
    ])
      expect(names).toContain(wanted);
  });

  it('locks no package whose engines exclude the Node floor package.json promises', () => {
    const floor = semver.minVersion(manifest.engines.node)!.version;
    const refused: string[] = [];
    for (const [location, entry] of Object.entries(lock.packages)) {
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (location && node && !semver.satisfies(floor, node)) refused.push(`${location}@${entry.version}: node ${node}`);
    }
    expect(refused).toEqual([]);
  });
});
