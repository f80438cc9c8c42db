/**
 * Validates the ops the actuator generates against the VyOS schema of the router's version
 * (./schema, the same tree the lab's emulator enforces) before anything is sent to a router.
 *
 * Validators that read the router's own state (`file-path` lookups in /sys/class/net, `script`) are
 * deferred to the router: a node whose only constraint is such a validator accepts; beside a regex,
 * the regex decides (see docs/notes/vyos.md, "One schema").
 */
import { ValidationError } from '../../core/errors.ts';
import { redactSecrets } from '../../core/redact.ts';
import { schemaFor, walkPath, type PathProblem } from './schema/index.ts';
import type { ConfigOp, VyosVersion } from './types.ts';

/** Why the words are not valid, in the actuator's words (the op is named by the caller). */
function problemText(problem: PathProblem, words: readonly string[]): string {
  switch (problem.kind) {
    case 'empty-path':
      return 'empty path';
    case 'empty-word':
      return `empty word at position ${problem.at + 1}`;
    case 'unknown-node':
      return `no node "${words[problem.at]}" under "${words.slice(0, problem.at).join(' ') || '(root)'}"`;
    case 'value-on-valueless-leaf':
      return `"${words[problem.at - 1]}" takes no value`;
    case 'words-after-value':
      return `words after the value of "${words[problem.at - 1]}"`;
    case 'requires-value':
      return 'requires a value';
    case 'tag-value-whitespace':
      return `"${words[problem.at]}" is not a valid name under "${words[problem.at - 1]}"`;
    case 'forbidden-character':
    case 'invalid-value': {
      const role = problem.node.kind === 'tag' ? 'name under' : 'value of';
      const why =
        problem.kind === 'forbidden-character'
          ? ` (VyOS values cannot hold a ${problem.character.replace('-', ' ')})`
          : problem.node.constraintErrorMessage
            ? ` (${problem.node.constraintErrorMessage})`
            : '';
      return `"${words[problem.at]}" is not a valid ${role} "${words[problem.at - 1]}"${why}`;
    }
  }
}

/** Throws ValidationError naming the op when a word or value is not valid for the version. */
export function validateOp(version: VyosVersion, op: ConfigOp): void {
  const words = op.value !== undefined ? [...op.path, op.value] : op.path;
  const result = walkPath(schemaFor(version), words, { op: op.op === 'set' ? 'set' : 'delete', routerState: 'defer' });
  if (!result.ok) {
    // The message reaches the audit trail, the API and logs: a refused PSK or key is never quoted.
    const shown = redactSecrets(words);
    throw new ValidationError(
      `VyOS ${version}: "${op.op} ${shown.join(' ')}" is not valid: ${problemText(result.problem, shown)}`,
    );
  }
}

/** Validates every op; the first invalid one throws (nothing is sent). */
export function validateOps(version: VyosVersion, ops: readonly ConfigOp[]): void {
  for (const op of ops) validateOp(version, op);
}

/** True when `path` names a node of the schema (a config subtree the actuator may snapshot). */
export function isSchemaPath(version: VyosVersion, path: readonly string[]): boolean {
  return walkPath(schemaFor(version), path, { op: 'delete', routerState: 'defer' }).ok;
}
