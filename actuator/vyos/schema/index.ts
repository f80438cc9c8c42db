/**
 * The one VyOS configuration schema (per version) and its path walk, owned by the actuator and
 * imported by the lab's emulator. Callers choose the behaviour that differs between them through
 * WalkOptions (`routerState`) and word the structured PathProblem themselves.
 */
export { SchemaNode, schemaFor } from './build.ts';
export {
  lookupSchema,
  walkPath,
  type ForbiddenCharacter,
  type PathProblem,
  type ResolvedPath,
  type WalkOptions,
  type WalkResult,
} from './walk.ts';
export type { RouterStateChecks } from './validators.ts';
