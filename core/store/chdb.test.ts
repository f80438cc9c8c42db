import { describe, expect, it } from 'vitest';
import { storeConformance } from '../../test/conformance/store.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createStore } from './index.ts';
import { ChdbStore } from './chdb.ts';
import { StoreError } from './errors.ts';

// chDB is in-process: its conformance run belongs to the unit tier. One temporary folder per
// process; each store gets its own database.
storeConformance('chdb', () => createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('conf') }));

describe('chdb store', () => {
  it('refuses a second data folder in the same process with a clear error', async () => {
    const a = new ChdbStore({ path: '', database: uniqueName('a') });
    await a.start();
    const b = new ChdbStore({ path: '/tmp/pathpilot-other-chdb', database: 'b' });
    await expect(b.start()).rejects.toThrow(/one data folder per process/);
    await a.stop();
  });

  it('fails clearly when used before start', async () => {
    const s = new ChdbStore({ path: '', database: 'x' });
    await expect(s.query(new (await import('./sql.ts')).Sql('SELECT 1'))).rejects.toThrow(StoreError);
    expect(await s.ping()).toBe(false);
  });

  it('rejects names that are not identifiers at construction', () => {
    expect(() => createStore({ kind: 'chdb', url: '', path: '', database: 'bad-name' })).toThrow(/invalid database name/);
    expect(() => createStore({ kind: 'server', url: '', path: '', database: 'x' })).toThrow(/services.store.url/);
  });
});
