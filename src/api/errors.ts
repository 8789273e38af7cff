/**
 * Typed errors of Fledge. Each carries a stable `code` that callers branch on and that becomes the
 * reason of a status condition, so codes never change once published.
 */

export const FLEDGE_ERROR_CODES = [
  'InvalidSpec',
  'NoValues',
  'ProviderUnavailable',
  'UnknownProvider',
  'NotReady',
  'DeadlineExceeded',
  'InvalidResponse',
  // The reconciler's, named after Flux's condition reasons.
  'GitOperationFailed',
  'ArtifactFailed',
  'BuildFailed',
  'ReconciliationFailed',
  'PruneFailed',
  'HealthCheckFailed',
  'DependencyNotReady',
] as const;

export type FledgeErrorCode = (typeof FLEDGE_ERROR_CODES)[number];

/** One broken rule of a resource, e.g. `{ path: 'spec.analysis.stepWeight', rule: 'must be between 0 and 100' }`. */
export interface Problem {
  path: string;
  rule: string;
}

export const formatProblem = (problem: Problem): string =>
  problem.path === '' ? problem.rule : `${problem.path}: ${problem.rule}`;

export interface FledgeErrorOptions {
  problems?: readonly Problem[];
  cause?: unknown;
}

export class FledgeError extends Error {
  readonly code: FledgeErrorCode;
  /** Every problem found (InvalidSpec); empty for the other codes. */
  readonly problems: readonly Problem[];

  constructor(code: FledgeErrorCode, message: string, options: FledgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FledgeError';
    this.code = code;
    this.problems = Object.freeze([...(options.problems ?? [])]);
  }
}

export const isFledgeError = (value: unknown, code?: FledgeErrorCode): value is FledgeError =>
  value instanceof FledgeError && (code === undefined || value.code === code);

/**
 * The error for a resource that breaks one or more rules. The message lists every problem, so a
 * user fixing a manifest sees them all at once rather than one per attempt.
 */
export const invalidSpec = (kind: string, name: string | undefined, problems: readonly Problem[]): FledgeError => {
  const subject = name ? `${kind} "${name}"` : kind;
  return new FledgeError('InvalidSpec', `${subject} is invalid: ${problems.map(formatProblem).join('; ')}`, {
    problems,
  });
};
