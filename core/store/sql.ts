/**
 * The only way values enter SQL. ClickHouse 18.16 has no query parameters, so values are rendered
 * as literals here, escaped once and for all: strings quote `\` and `'`, numbers must be finite,
 * identifiers must be plain names. Anything else (a raw fragment) must be built with `raw()` from
 * code-owned text, never from user input.
 */
export class Sql {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

class Identifier {
  constructor(readonly name: string) {}
}

class ValueList {
  constructor(readonly values: readonly SqlValue[]) {}
}

export type SqlValue = string | number | bigint | boolean | null | Date | Sql | Identifier | ValueList | readonly SqlValue[];

const identPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table, column or database name; rejected unless it is a plain identifier. */
export function ident(name: string): Identifier {
  if (!identPattern.test(name)) throw new Error(`invalid SQL identifier: ${JSON.stringify(name)}`);
  return new Identifier(name);
}

/** A trusted fragment written by the code (DDL from definitions). Never pass user input. */
export function raw(text: string): Sql {
  return new Sql(text);
}

/** `(a, b, c)` for `IN` lists. An empty list renders `(NULL)` so `x IN ()` never happens. */
export function list(values: readonly SqlValue[]): ValueList {
  return new ValueList(values);
}

export function escapeString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (value instanceof Sql) return value.text;
  if (value instanceof Identifier) return `\`${value.name}\``;
  if (value instanceof ValueList) return value.values.length === 0 ? '(NULL)' : `(${value.values.map(literal).join(', ')})`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new Error('invalid Date in SQL');
    return `toDateTime(${Math.floor(ms / 1000)})`;
  }
  switch (typeof value) {
    case 'string':
      return escapeString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`non-finite number in SQL: ${value}`);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? '1' : '0';
  }
  throw new Error(`unsupported SQL value: ${typeof value}`);
}

/** Tagged template: sql`SELECT * FROM ${ident(t)} WHERE site = ${site}`. */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  let text = strings[0]!;
  for (let i = 0; i < values.length; i++) text += literal(values[i]!) + strings[i + 1]!;
  return new Sql(text);
}

/** Joins fragments with a separator (column lists, WHERE clauses). */
export function joinSql(parts: readonly Sql[], separator = ', '): Sql {
  return new Sql(parts.map((p) => p.text).join(separator));
}

/** Epoch milliseconds as a DateTime literal (second precision, UTC). */
export function dateTimeMs(ms: number): Sql {
  if (!Number.isFinite(ms)) throw new Error('invalid time in SQL');
  return new Sql(`toDateTime(${Math.floor(ms / 1000)})`);
}
