import type { Logger } from '../log.ts';
import { StoreError } from './errors.ts';

/** What a store implementation may use from its surroundings. */
export interface StoreDeps {
  log?: Logger;
}

/**
 * Formats a raw insert may carry. The server takes them all; chDB's binding only text formats
 * (`Store.rawFormats` says which). Native: one block of columns (analytics/sink/native.ts).
 */
export type RawFormat = 'JSONEachRow' | 'TabSeparated' | 'RowBinary' | 'Native';

/** A raw insert body: text, bytes, or bytes in pieces (sent in order, never joined on the server path). */
export type RawBody = Buffer | string | readonly Buffer[];

/** How a raw INSERT is sent (the server store; chDB ignores them). */
export interface RawInsertOptions {
  /** The INSERT's name on the server (system.processes), so a caller that lost the answer can ask. */
  queryId?: string;
  /**
   * The body holds several Native blocks that must be stored as one (one part, all or nothing):
   * the server joins them (its min_insert_block_size squashing) instead of writing each.
   */
  severalBlocks?: boolean;
}

export function rawBodyBuffer(body: RawBody): Buffer {
  if (Buffer.isBuffer(body)) return body;
  const pieces = rawBodyPieces(body);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** A raw body as the Buffers it is made of, none copied (a string becomes one). */
export function rawBodyPieces(body: RawBody): readonly Buffer[] {
  if (typeof body === 'string') return [Buffer.from(body)];
  if (Buffer.isBuffer(body)) return [body];
  return body as readonly Buffer[];
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database, table and column names reach SQL unquoted-safe only when they are plain identifiers. */
export function assertTableName(name: string, what: string): void {
  if (!namePattern.test(name)) throw new StoreError(`invalid ${what} name ${JSON.stringify(name)}: use letters, digits and _`);
}
