/**
 * The emulated router's view of the one VyOS schema (actuator/vyos/schema): the emulator walks the
 * same tree the actuator validates against, running every validator (router-state ones through their
 * stand-ins, as a router without such an interface would), and words each refusal with the text the
 * router's version answers: the node's constraintErrorMessage (or `Invalid value`), `… is not valid`,
 * `… requires a value`, the vyatta character errors, each ending in `Set failed` / `Delete failed`.
 */
import {
  lookupSchema,
  schemaFor,
  walkPath,
  type PathProblem,
  type ResolvedPath,
  type SchemaNode,
} from '../../actuator/vyos/schema/index.ts';
import { VyosConfigError } from './types.ts';

export { lookupSchema, schemaFor, type ResolvedPath, type SchemaNode };

/** The vyatta word of an op in the router's error texts. */
export type VyattaOp = 'Set' | 'Delete';

const characterTexts = {
  'double-quote': 'Cannot use the double quote (") character in a value string',
  'single-quote': "Cannot use the single quote (') character in a value string",
  newline: 'Cannot use newline character in a value string',
} as const;

/** The text a VyOS router answers for a refused `set`/`delete` (vyatta-cfg and vyos1x-config wording). */
export function routerErrorText(problem: PathProblem, words: readonly string[], op: VyattaOp): string {
  switch (problem.kind) {
    case 'forbidden-character':
      return `${characterTexts[problem.character]}\n${op} failed\n`;
    case 'tag-value-whitespace':
      return `Tag node value name must not contain whitespace\n${op} failed\n`;
    case 'invalid-value':
      return `${problem.node.constraintErrorMessage ?? 'Invalid value'}\nValue validation failed\n${op} failed\n`;
    case 'requires-value':
      return `Configuration path: [${words.join(' ')}] requires a value\n${op} failed\n`;
    case 'empty-path':
    case 'empty-word':
    case 'unknown-node':
    case 'value-on-valueless-leaf':
    case 'words-after-value':
      return `Configuration path: [${words.join(' ')}] is not valid\n${op} failed\n`;
  }
}

/**
 * Walks `words` (a set/delete path including the value) through the schema. `op` is `Set` or
 * `Delete` (the vyatta word in the error text). Throws VyosConfigError with the router's text.
 */
export function resolvePath(root: SchemaNode, words: string[], op: VyattaOp): ResolvedPath {
  const result = walkPath(root, words, { op: op === 'Set' ? 'set' : 'delete', routerState: 'emulate' });
  if (!result.ok) throw new VyosConfigError(routerErrorText(result.problem, words, op));
  return result.path;
}
