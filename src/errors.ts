import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The error-code catalog: every `code` a client can see, with its HTTP status and title. */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid' },
  name_required: { status: 400, title: 'A name is required to create the account' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  email_mismatch: { status: 403, title: 'This invitation is for another email address' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  already_member: { status: 409, title: 'Already a member' },
  invitation_already_pending: { status: 409, title: 'An invitation is already pending for this email' },
  pending_invitation_limit: { status: 409, title: 'Too many pending invitations' },
  invalid_state: { status: 409, title: 'Not possible in the current state' },
  last_owner: { status: 409, title: 'An organization must keep at least one owner' },
  slug_taken: { status: 409, title: 'That slug is taken' },
  organization_limit: { status: 409, title: 'Too many organizations owned by this account' },
  api_token_limit: { status: 409, title: 'Too many live API tokens on this account' },
  seat_limit: { status: 409, title: 'No seat left in this organization' },
  domain_taken: { status: 409, title: 'This domain is verified by another organization' },
  invite_link_limit: { status: 409, title: 'Too many live invite links in this organization' },
  conflict: { status: 409, title: 'Conflicting concurrent change; retry' },
  invitation_invalid: { status: 410, title: 'Invitation no longer valid' },
  link_invalid: { status: 410, title: 'Sign-in link no longer valid' },
  invite_link_invalid: { status: 410, title: 'Invite link no longer valid' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Content-Type must be application/json' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different body' },
  email_domain_not_allowed: { status: 422, title: 'This email domain is not allowed by the organization' },
  domain_not_verified: { status: 422, title: 'The verification record was not found' },
  public_email_domain: { status: 422, title: 'Public mailbox domains cannot be verified' },
  resend_cooldown: { status: 429, title: 'Resent too recently' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  misconfigured: { status: 503, title: 'This deployment is misconfigured' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

/** The one error primitive: thrown anywhere, rendered by `app.onError` as RFC 9457 problem details. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail?: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    const entry = ERROR_CODES[code];
    super(entry.status as ContentfulStatusCode, { message: detail ?? entry.title });
    this.code = code;
    this.detail = detail ?? entry.title;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
  }
}

/** A failure returned (not thrown) across the Durable Object RPC boundary. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  detail?: string;
  retryAfterSeconds?: number;
}
/**
 * What a write answers. `queued`: the outbox rows (emails) its batch wrote, which the coordinator
 * hands to the delivery queue itself; it never crosses back to the Worker.
 */
export type Outcome<T> = { ok: true; value: T; queued?: string[] } | Failure;

export const fail = (code: ErrorCode, detail?: string, retryAfterSeconds?: number): Failure => ({
  ok: false,
  code,
  detail,
  retryAfterSeconds,
});

/** Unwraps a Durable Object outcome into a value or an ApiError. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const headers: Record<string, string> = {};
  if (outcome.retryAfterSeconds !== undefined) headers['Retry-After'] = String(outcome.retryAfterSeconds);
  throw new ApiError(outcome.code, outcome.detail, { headers });
}

/** The RFC 9457 body of a problem (also each refused row of a bulk request). */
export function problemBody(code: ErrorCode, detail: string, errors?: FieldError[]) {
  return {
    type: `https://docs.8bit-ai.dev/problems/${code.replaceAll('_', '-')}`,
    title: ERROR_CODES[code].title,
    status: ERROR_CODES[code].status as number,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/** Renders an ApiError as `application/problem+json`. */
export function problemResponse(c: Context, err: ApiError, requestId?: string): Response {
  const body = { ...problemBody(err.code, err.detail, err.errors), ...(requestId ? { request_id: requestId } : {}) };
  return c.body(JSON.stringify(body), err.status, {
    ...err.headers,
    'Content-Type': 'application/problem+json',
  });
}
