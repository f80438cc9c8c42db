/**
 * Typed errors with stable codes. Codes are never reused; docs/internals.md keeps the table.
 * Control-flow errors (UnrecoverableError, RollbackRequiredError) are understood by runners.
 */
export type ErrorCode =
  | 'PP_ERR_CONFIG'
  | 'PP_ERR_VALIDATION'
  | 'PP_ERR_DECODE'
  | 'PP_ERR_STORE'
  | 'PP_ERR_BUS'
  | 'PP_ERR_QUEUE'
  | 'PP_ERR_SERVICE'
  | 'PP_ERR_ROUTER_UNREACHABLE'
  | 'PP_ERR_ROUTER_REJECTED'
  | 'PP_ERR_UNAUTHORIZED'
  | 'PP_ERR_FORBIDDEN'
  | 'PP_ERR_NOT_FOUND'
  | 'PP_ERR_CONFLICT'
  | 'PP_ERR_INFEASIBLE'
  | 'PP_ERR_UNRECOVERABLE'
  | 'PP_ERR_ROLLBACK_REQUIRED';

const httpStatusByCode: Record<ErrorCode, number> = {
  PP_ERR_CONFIG: 500,
  PP_ERR_VALIDATION: 400,
  PP_ERR_DECODE: 400,
  PP_ERR_STORE: 503,
  PP_ERR_BUS: 503,
  PP_ERR_QUEUE: 503,
  PP_ERR_SERVICE: 503,
  PP_ERR_ROUTER_UNREACHABLE: 502,
  PP_ERR_ROUTER_REJECTED: 502,
  PP_ERR_UNAUTHORIZED: 401,
  PP_ERR_FORBIDDEN: 403,
  PP_ERR_NOT_FOUND: 404,
  PP_ERR_CONFLICT: 409,
  PP_ERR_INFEASIBLE: 422,
  PP_ERR_UNRECOVERABLE: 500,
  PP_ERR_ROLLBACK_REQUIRED: 500,
};

export class PathpilotError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PathpilotError';
    this.code = code;
    this.statusCode = httpStatusByCode[code];
  }
}

/** A configuration problem; `issues` name each offending key (and file line where known). */
export class ConfigError extends PathpilotError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super('PP_ERR_CONFIG', `invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A record or request that failed schema validation. */
export class ValidationError extends PathpilotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PP_ERR_VALIDATION', message, options);
    this.name = 'ValidationError';
  }
}

/** Retrying will not help (bad input, permanent rejection): the job runner must not retry. */
export class UnrecoverableError extends PathpilotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PP_ERR_UNRECOVERABLE', message, options);
    this.name = 'UnrecoverableError';
  }
}

/** The change must be undone: the actuator restores the saved snapshots. */
export class RollbackRequiredError extends PathpilotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PP_ERR_ROLLBACK_REQUIRED', message, options);
    this.name = 'RollbackRequiredError';
  }
}

/** Renders any thrown value as a one-line message, following `cause` chains. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
