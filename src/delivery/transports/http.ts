import { errorMessage } from '../../lib/redact';
import { logProviderError } from './provider-log';
import type { SendResult } from './types';

/** SPEC §10: one attempt gives up after 10 seconds (and is then retryable). */
export const SEND_TIMEOUT_MS = 10_000;
export const USER_AGENT = '8bit-ai-invitations/1.0 (+https://8bit-ai.dev)';

/** One send: where it goes, and what identifies it in the operator's log. */
export interface ProviderPost {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  /** The configured API key: never in a reason or a log line, even when the provider echoes it. */
  apiKey: string;
  /** The outbox row this send is for (the email's idempotency key), to find its log line. */
  outboxId: string;
}

/**
 * What tenants see (SPEC §18): the provider, its status and a fixed phrase, never the provider's
 * own text, which may echo the API key or describe the account. It is stored as
 * `email_delivery_detail` (API, Team page, audit, webhooks) and `outbox.last_error`.
 */
function tenantReason(provider: string, status: number): string {
  if (status === 429) return `${provider} ${status}: rate limited by the email provider`;
  if (status >= 500) return `${provider} ${status}: the email provider is unavailable`;
  return `${provider} ${status}: refused by the email provider`;
}

/** What operators see: the provider's own words, redacted, in one log line keyed by the outbox row. */
function logPostError(post: ProviderPost, fields: { status: number | null; detail: string }) {
  logProviderError({
    provider: post.provider,
    outboxId: post.outboxId,
    status: fields.status,
    detail: fields.detail,
    secrets: [post.apiKey],
  });
}

/**
 * POSTs JSON to a provider and classifies the answer: 2xx sent (the caller reads the id), 429 and
 * 5xx retryable, any other 4xx permanent; a network error or timeout is retryable. Redirects are
 * not followed.
 */
export async function postJson(
  post: ProviderPost,
  readId: (json: Record<string, unknown>) => unknown,
): Promise<SendResult> {
  const { provider, timeoutMs } = post;
  let res: Response;
  try {
    res = await fetch(post.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': USER_AGENT,
        ...post.headers,
      },
      body: JSON.stringify(post.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    logPostError(post, { status: null, detail: errorMessage(err, 500, [post.apiKey]) });
    return {
      status: 'retryable',
      reason: timedOut ? `${provider}: no answer within ${timeoutMs / 1000} s` : `${provider}: network error`,
    };
  }
  const text = (await res.text().catch(() => '')).slice(0, 4096);
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status decides
  }
  if (res.status >= 200 && res.status < 300) {
    const id = readId(json);
    return { status: 'sent', providerMessageId: typeof id === 'string' && id ? id.slice(0, 200) : null };
  }
  const said = typeof json.message === 'string' ? json.message : typeof json.Message === 'string' ? json.Message : text;
  logPostError(post, { status: res.status, detail: said });
  const reason = tenantReason(provider, res.status);
  if (res.status === 429 || res.status >= 500) return { status: 'retryable', reason };
  return { status: 'permanent', reason };
}
