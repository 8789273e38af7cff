/**
 * Errors the API server returns. Each carries what a `metav1.Status` needs, so the HTTP layer only
 * serialises it; clients (kubectl, client-node) read `reason`, `code` and `details.causes`.
 */
export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'InternalError'
  | 'TooManyRequests'
  | 'Forbidden';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

const codeOf: Record<StatusReason, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
};

export class ApiError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details: StatusDetails = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = codeOf[reason];
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: Object.keys(this.details).length ? this.details : undefined,
      code: this.code,
    };
  }
}

/** 422 Invalid with one cause per broken field, as the real API server words it. */
export const invalid = (
  kind: string,
  name: string,
  group: string,
  causes: StatusCause[],
): ApiError => {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  // kube-apiserver brackets the list when there is more than one cause.
  const summary = parts.length > 1 ? `[${parts.join(', ')}]` : (parts[0] ?? '');
  return new ApiError('Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
};
