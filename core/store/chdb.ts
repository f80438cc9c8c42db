import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Session } from 'chdb';
import type { Store, StoreCapabilities, StoreVersion } from './types.ts';
import type { Sql } from './sql.ts';
import { StoreError, toStoreError } from './errors.ts';
import { capabilitiesFor, parseVersion, pinnedSettings } from './version.ts';
import { assertTableName, rawBodyBuffer, type RawBody, type RawFormat, type StoreDeps } from './common.ts';

export interface ChdbStoreOptions {
  /** Data folder; empty means a temporary folder removed when the last store on it stops. */
  path: string;
  database: string;
}

/**
 * chDB allows one data folder per process. Stores that name the same folder (or both ask for a
 * temporary one) share a session, counted by reference; asking for a second folder while one is
 * open is an error that says so.
 */
interface SharedSession {
  session: Session;
  key: string;
  refs: number;
  version: StoreVersion;
  /** Tail of the chain every operation on the session waits behind. */
  tail: Promise<unknown>;
}

/**
 * Runs one operation on the session after every earlier one has settled. chDB's async calls run on a
 * native thread and the engine is not safe for concurrent statements on one session: overlapping
 * queries and inserts from several components crashed the process inside libc++ (vector bounds
 * assertion) in the demo loop. One at a time keeps the process alive; the sink batches, so the cost is small.
 */
function serialized<T>(s: SharedSession, op: () => Promise<T>): Promise<T> {
  const run = s.tail.then(op, op);
  s.tail = run.catch(() => undefined);
  return run;
}
let shared: SharedSession | undefined;

/**
 * chDB's native library maps ~145 MB into the process when loaded, so it is loaded on the first
 * session, not on import: a process whose store is the server (an ingest collector) never pays it.
 */
let sessionClass: typeof Session | undefined;
function chdbSession(): typeof Session {
  sessionClass ??= (createRequire(import.meta.url)('chdb') as typeof import('chdb')).Session;
  return sessionClass;
}

function acquire(path: string): SharedSession {
  const key = path || ':temp:';
  if (shared) {
    if (shared.key !== key) {
      throw new StoreError(
        `chDB allows one data folder per process: "${shared.key}" is open, cannot also open "${key}" (use another database instead)`,
      );
    }
    shared.refs++;
    return shared;
  }
  if (path) mkdirSync(path, { recursive: true });
  let session: Session;
  try {
    const SessionClass = chdbSession();
    session = path ? new SessionClass(path) : new SessionClass();
  } catch (err) {
    throw toStoreError(err, `unable to open chDB at ${path || 'a temporary folder'}`);
  }
  try {
    const text = session.query('SELECT version()', 'TabSeparated').trim();
    const version = parseVersion(text);
    // SET persists for the session: the same pinned settings the server store sends per request.
    for (const [name, value] of Object.entries(pinnedSettings(version))) {
      session.query(`SET ${name} = ${typeof value === 'number' ? value : `'${value}'`}`);
    }
    shared = { session, key, refs: 1, version, tail: Promise.resolve() };
    return shared;
  } catch (err) {
    session.close();
    throw toStoreError(err, 'unable to initialise chDB');
  }
}

function release(s: SharedSession): void {
  s.refs--;
  if (s.refs <= 0 && shared === s) {
    shared = undefined;
    s.session.close();
  }
}

/**
 * The store on embedded chDB (ClickHouse 26.x in-process). Statements run with `queryAsync` /
 * raw `insert`, off the event loop. Table names are qualified with the store's database because
 * the session (and so `USE`) is shared by every store in the process.
 */
export class ChdbStore implements Store {
  readonly kind = 'chdb' as const;
  readonly database: string;
  /** The chdb binding's raw insert takes text formats only (its whitelist has no RowBinary). */
  readonly rawFormats: readonly RawFormat[] = ['JSONEachRow', 'TabSeparated'];
  private handle: SharedSession | undefined;

  constructor(
    private readonly options: ChdbStoreOptions,
    private readonly deps: StoreDeps = {},
  ) {
    assertTableName(options.database, 'database');
    this.database = options.database;
  }

  async start(): Promise<void> {
    if (this.handle) return;
    const handle = acquire(this.options.path);
    try {
      await serialized(handle, () => handle.session.queryAsync(`CREATE DATABASE IF NOT EXISTS \`${this.database}\``));
    } catch (err) {
      release(handle);
      throw toStoreError(err, `unable to create chDB database ${this.database}`);
    }
    this.handle = handle;
    this.deps.log?.info(
      { path: handle.session.path, version: handle.version.text, database: this.database },
      'chdb store started',
    );
  }

  async stop(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) release(h);
  }

  private ready(): SharedSession {
    if (!this.handle) throw new StoreError('the chDB store is not started');
    return this.handle;
  }

  /** The chDB data folder in use (a temporary one when the config left it empty). */
  get path(): string {
    return this.ready().session.path;
  }

  version(): StoreVersion {
    return this.ready().version;
  }

  capabilities(): StoreCapabilities {
    return capabilitiesFor(this.ready().version);
  }

  async exec(statement: Sql): Promise<void> {
    const handle = this.ready();
    try {
      await serialized(handle, () => handle.session.queryAsync(statement.text, { format: 'TabSeparated' }));
    } catch (err) {
      throw toStoreError(err, 'chdb statement failed', statement.text);
    }
  }

  async query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    const handle = this.ready();
    let text: string;
    try {
      text = (await serialized(handle, () => handle.session.queryAsync(statement.text, { format: 'JSONEachRow' }))).text();
    } catch (err) {
      throw toStoreError(err, 'chdb query failed', statement.text);
    }
    const rows: T[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
      start = end + 1;
    }
    return rows;
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    let body = '';
    for (const row of rows) body += `${JSON.stringify(row)}\n`;
    await this.insertRaw(table, 'JSONEachRow', Buffer.from(body));
  }

  async insertRaw(table: string, format: RawFormat, body: RawBody, columns?: readonly string[]): Promise<void> {
    assertTableName(table, 'table');
    if (!this.rawFormats.includes(format))
      throw new StoreError(`chdb cannot insert ${format}: use one of ${this.rawFormats.join(', ')}`);
    for (const c of columns ?? []) assertTableName(c, 'column');
    const handle = this.ready();
    try {
      await serialized(handle, () =>
        handle.session.insert({
          table: `${this.database}.${table}`,
          values: rawBodyBuffer(body),
          format: format as 'JSONEachRow' | 'TabSeparated',
          columns: columns ? [...columns] : undefined,
          settings: { input_format_skip_unknown_fields: 1, date_time_input_format: 'best_effort' },
        }),
      );
    } catch (err) {
      throw toStoreError(err, `chdb insert into ${table} failed`);
    }
  }

  async ping(): Promise<boolean> {
    if (!this.handle) return false;
    try {
      const handle = this.handle;
      await serialized(handle, () => handle.session.queryAsync('SELECT 1', { format: 'TabSeparated' }));
      return true;
    } catch {
      return false;
    }
  }
}
