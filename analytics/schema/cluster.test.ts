import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';
import { ServerStore } from '../../core/store/server.ts';
import { analyticsStore, clusterStoreSettings } from './cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'pp-cluster-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The example configuration with its store and analytics.store replaced. */
function configWith(store: Record<string, unknown>, analyticsStoreSection?: Record<string, unknown>): string {
  const doc = parse(readFileSync(new URL('../../pathpilot.example.yaml', import.meta.url), 'utf8')) as {
    services: Record<string, unknown>;
    analytics?: Record<string, unknown>;
  };
  doc.services.store = store;
  if (analyticsStoreSection) doc.analytics = { ...(doc.analytics ?? {}), store: analyticsStoreSection };
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const cluster = { name: 'pathpilot', shards: [['http://127.0.0.1:28123', 'http://127.0.0.1:28124'], ['http://127.0.0.1:28125']] };

describe('analyticsStore', () => {
  it('gives every reader and writer of a cluster the Distributed-table settings', () => {
    const loaded = loadConfig(configWith({ kind: 'server', url: 'http://127.0.0.1:28123', database: 'pp' }, { cluster }), {});
    const store = analyticsStore(loaded);
    expect(store).toBeInstanceOf(ServerStore);
    expect((store as unknown as { options: { settings?: unknown } }).options.settings).toEqual(clusterStoreSettings);
  });

  it('leaves a single server as it is', () => {
    const loaded = loadConfig(configWith({ kind: 'server', url: 'http://127.0.0.1:8123', database: 'pp' }), {});
    expect((analyticsStore(loaded) as unknown as { options: { settings?: unknown } }).options.settings).toBeUndefined();
  });

  it('refuses a cluster on chDB, naming the keys', () => {
    const loaded = loadConfig(configWith({ kind: 'chdb', database: 'pp' }, { cluster }), {});
    expect(() => analyticsStore(loaded)).toThrow(ConfigError);
    expect(() => analyticsStore(loaded)).toThrow(/analytics\.store\.cluster needs services\.store\.kind "server"/);
  });
});
