import type { Logger } from '../log.ts';
import { StoreError } from './errors.ts';

/** What a store implementation may use from its surroundings. */
export interface StoreDeps {
  log?: Logger;
}

/** Formats a raw insert may carry (both targets parse them natively). */
export type RawFormat = 'JSONEachRow' | 'TabSeparated';

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database, table and column names reach SQL unquoted-safe only when they are plain identifiers. */
export function assertTableName(name: string, what: string): void {
  if (!namePattern.test(name)) throw new StoreError(`invalid ${what} name ${JSON.stringify(name)}: use letters, digits and _`);
}
