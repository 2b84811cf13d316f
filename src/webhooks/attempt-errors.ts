import { errorMessage } from '../lib/redact';

/**
 * What the delivery log says about a failed attempt (SPEC §18): one of a fixed set, never the
 * runtime's own text. That text told an open port from a closed one ("internal error" against
 * "Network connection lost"), which made the log a port scanner for whoever reads it; operators
 * still get the text in the Worker's log.
 * - `timeout`: no answer within 10 s;
 * - `connection_failed`: no HTTP answer at all (refused, reset, unreachable, no such host);
 * - `tls_error`: the runtime named TLS, SSL or a certificate as the reason;
 * - `redirect_not_followed`: a 3xx answer (redirects are not followed, SPEC §11);
 * - `http_<status>`: any other answer outside 2xx;
 * - `refused`: not sent, because the URL breaks the webhook URL rule at send time.
 */
export type AttemptError =
  | 'timeout'
  | 'connection_failed'
  | 'tls_error'
  | 'redirect_not_followed'
  | 'refused'
  | `http_${number}`;

/** The error class of an HTTP answer, or null for a 2xx. */
export function errorForStatus(status: number): AttemptError | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return 'redirect_not_followed';
  return `http_${status}`;
}

/** The error class of what `fetch` threw (the text itself goes to the operator's log only). */
export function errorForException(err: unknown): AttemptError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  return /\b(tls|ssl|certificate)\b/i.test(errorMessage(err)) ? 'tls_error' : 'connection_failed';
}
