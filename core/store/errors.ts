import { PathpilotError } from '../errors.ts';

/**
 * A store failure. `chCode` is ClickHouse's numeric error code when the server (or chDB) answered
 * with one: parsed from the message with /Code: (\d+)/, which matches both 18.16
 * (`Code: 60, e.displayText() = …`) and modern servers (`Code: 60. DB::Exception: … (UNKNOWN_TABLE)`).
 * `transient` is true when retrying may help (connection refused or reset, timeouts, server overload).
 */
export class StoreError extends PathpilotError {
  readonly chCode: number | undefined;
  /** Modern servers name the code (`UNKNOWN_TABLE`); 18.16 does not. */
  readonly chType: string | undefined;
  readonly transient: boolean;
  /** The statement that failed, shortened for messages and logs. */
  readonly statement: string | undefined;

  constructor(
    message: string,
    options: { chCode?: number; chType?: string; transient?: boolean; statement?: string; cause?: unknown } = {},
  ) {
    super('PP_ERR_STORE', message, { cause: options.cause });
    this.name = 'StoreError';
    this.chCode = options.chCode;
    this.chType = options.chType;
    this.transient = options.transient ?? false;
    this.statement = options.statement;
  }
}

/** Well-known ClickHouse error codes the code branches on. */
export const chCodes = {
  SYNTAX_ERROR: 62,
  UNKNOWN_TABLE: 60,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_IDENTIFIER: 47,
  UNKNOWN_SETTING: 115,
  TABLE_ALREADY_EXISTS: 57,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  TIMEOUT_EXCEEDED: 159,
  MEMORY_LIMIT_EXCEEDED: 241,
  TOO_MANY_PARTS: 252,
  SOCKET_TIMEOUT: 209,
  NETWORK_ERROR: 210,
  ABORTED: 236,
} as const;

/** Codes after which the same statement may succeed later (load, not a bad statement). */
const transientChCodes = new Set<number>([
  chCodes.TOO_MANY_SIMULTANEOUS_QUERIES,
  chCodes.TIMEOUT_EXCEEDED,
  chCodes.MEMORY_LIMIT_EXCEEDED,
  chCodes.TOO_MANY_PARTS,
  chCodes.SOCKET_TIMEOUT,
  chCodes.NETWORK_ERROR,
  chCodes.ABORTED,
]);

const transientSystemCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function parseChCode(message: string): number | undefined {
  const m = /Code: (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** `(UNKNOWN_TABLE)` at the end of a modern error message's first line. */
export function parseChType(message: string): string | undefined {
  const m = /\(([A-Z][A-Z0-9_]+)\)\s*(?:\(version [^)]*\))?\s*$/m.exec(message.split('\n')[0] ?? '');
  return m ? m[1] : undefined;
}

/** Shortens a statement for messages (never the data of an insert). */
export function shortStatement(text: string, max = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Wraps anything the client threw into a StoreError with the ClickHouse code when there is one. */
export function toStoreError(err: unknown, context: string, statement?: string): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const sysCode = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const chCode = parseChCode(message);
  const chType = parseChType(message);
  const isTimeout = /timeout/i.test(message) && chCode === undefined;
  const transient =
    (chCode !== undefined && transientChCodes.has(chCode)) ||
    (chCode === undefined &&
      (transientSystemCodes.has(sysCode) || isTimeout || /socket hang up|other side closed/i.test(message)));
  const firstLine = message.split('\n')[0]!.replace(/, e\.what\(\) = DB::Exception$/, '');
  return new StoreError(`${context}: ${firstLine}`, {
    chCode,
    chType,
    transient,
    statement: statement === undefined ? undefined : shortStatement(statement),
    cause: err,
  });
}

/** A missing table or database anywhere in the cause chain, described in a few words; else undefined. */
export function missingSchema(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (!(e instanceof StoreError)) continue;
    if (e.chCode === chCodes.UNKNOWN_TABLE) {
      const table = /(?:identifier|Table) '?([\w.]+?)'? (?:in scope|doesn't exist)/.exec(e.message)?.[1];
      return table ? `no table ${table}` : 'a table is missing';
    }
    if (e.chCode === chCodes.UNKNOWN_DATABASE) return 'the database does not exist';
  }
  return undefined;
}
