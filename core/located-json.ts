/**
 * JSON files users write (overlay nodes and topology, security groups): parsed with jsonc-parser so every
 * error names the file, line, column and field, and checked against a zod schema.
 */
import { readFile } from 'node:fs/promises';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ValidationError } from './errors.ts';

/** A parsed JSON file that can say where any of its values is. */
export interface LocatedFile<T> {
  file: string;
  data: T;
  /** `file:line:col: field` of the value at `path` (or of its nearest ancestor present). */
  at(path: readonly (string | number)[]): string;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  return { line, col: offset - last };
}

/** `nodes[1].endpoints[0].endpoint` from a path. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function locate(file: string, text: string, root: Node | undefined) {
  return (path: readonly (string | number)[]): string => {
    let node: Node | undefined;
    for (let n = path.length; n >= 0 && !node; n--)
      node = root ? findNodeAtLocation(root, path.slice(0, n) as (string | number)[]) : undefined;
    const { line, col } = lineCol(text, node?.offset ?? 0);
    return `${file}:${line}:${col}: ${fieldName(path) || '(top level)'}`;
  };
}

/** Parses `text` as JSON of `schema`'s shape; a syntax or shape error throws with its position. */
export function parseLocated<T>(file: string, text: string, schema: z.ZodType<T>): LocatedFile<T> {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  if (errors.length > 0 || !root) {
    const e = errors[0];
    const { line, col } = lineCol(text, e?.offset ?? 0);
    throw new ValidationError(`${file}:${line}:${col}: not valid JSON (${e ? printParseErrorCode(e.error) : 'empty'})`);
  }
  const at = locate(file, text, root);
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 20).map((i) => `${at(i.path as (string | number)[])}: ${i.message}`);
    throw new ValidationError(lines.join('\n'));
  }
  return { file, data: parsed.data, at };
}

export async function readLocated<T>(file: string, schema: z.ZodType<T>): Promise<LocatedFile<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseLocated(file, text, schema);
}
