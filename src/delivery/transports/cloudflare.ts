import { EmailMessage } from 'cloudflare:email';
import { buildMime } from '../../email/mime';
import { errorMessage } from '../../lib/redact';
import { logProviderError } from './provider-log';
import type { OutgoingEmail, ProviderEvent, QueuedEventReading, SendResult, Transport } from './types';

/**
 * The error codes the `send_email` binding documents for Email Sending
 * (https://developers.cloudflare.com/email-service/api/send-emails/workers-api/#error-codes). The
 * binding throws a standard `Error` with a `code` property. Refusals that no retry can fix:
 */
const PERMANENT_CODES = new Set([
  'E_VALIDATION_ERROR', // invalid payload: address format, malformed data
  'E_FIELD_MISSING', // to, from or subject missing
  'E_TOO_MANY_RECIPIENTS', // more than 50 in to/cc/bcc
  'E_SENDER_NOT_VERIFIED', // the sender's domain is not verified
  'E_RECIPIENT_NOT_ALLOWED', // not in allowed_destination_addresses (Email Routing only: unverified)
  'E_RECIPIENT_SUPPRESSED', // on the suppression list (bounced or complained before)
  'E_SENDER_DOMAIN_NOT_AVAILABLE', // the domain is not onboarded to Email Sending
  'E_CONTENT_TOO_LARGE', // over the 5 MiB message limit
  'E_HEADER_NOT_ALLOWED',
  'E_HEADER_USE_API_FIELD',
  'E_HEADER_VALUE_INVALID',
  'E_HEADER_VALUE_TOO_LONG',
  'E_HEADER_NAME_INVALID',
  'E_HEADERS_TOO_LARGE',
  'E_HEADERS_TOO_MANY',
]);

/**
 * Codes worth another attempt: `E_RATE_LIMIT_EXCEEDED` and `E_DAILY_LIMIT_EXCEEDED` (SPEC §10
 * treats a provider's 429 so), `E_INTERNAL_SERVER_ERROR` (the service is unavailable), and
 * `E_DELIVERY_FAILED`, which the page describes as "SMTP delivery failure, recipient server
 * rejection", a mix of temporary and permanent causes: the bounded retries (6 attempts) settle it.
 * Every code not listed anywhere here (a new one, or none) is retryable too.
 */
export const RETRYABLE_CODES = new Set([
  'E_RATE_LIMIT_EXCEEDED',
  'E_DAILY_LIMIT_EXCEEDED',
  'E_INTERNAL_SERVER_ERROR',
  'E_DELIVERY_FAILED',
]);

/**
 * The binding error's code: its `code` property, as documented. An error without one whose message
 * opens with a code token (`E_RECIPIENT_NOT_ALLOWED: …`) is read as that code; nothing else in a
 * message is interpreted.
 */
export function bindingErrorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code)) return code;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return /^(E_[A-Z0-9_]+)(?=$|[\s:])/.exec(message)?.[1] ?? null;
}

/**
 * What tenants see (SPEC §18), as for the HTTPS providers: a fixed phrase per class of error and the
 * documented code, never the runtime's message, which may name the account, its addresses or its
 * configuration. It is stored as `email_delivery_detail` (API, Team page, audit, webhooks) and
 * `outbox.last_error`; the message goes to the operator's log line.
 */
export function tenantReason(code: string | null): string {
  // A code is `E_` and capitals (bindingErrorCode); an implausibly long one is not shown.
  const tail = code && code.length <= 48 ? ` (${code})` : '';
  if (code && PERMANENT_CODES.has(code)) return `cloudflare: refused by the email service${tail}`;
  switch (code) {
    case 'E_RATE_LIMIT_EXCEEDED':
    case 'E_DAILY_LIMIT_EXCEEDED':
      return `cloudflare: rate limited by the email service${tail}`;
    case 'E_INTERNAL_SERVER_ERROR':
      return `cloudflare: the email service is unavailable${tail}`;
    case 'E_DELIVERY_FAILED':
      return `cloudflare: the email service could not deliver it${tail}`;
    default:
      return `cloudflare: the email service could not send it${tail}`;
  }
}

/** Permanent for a documented refusal, retryable for everything else (SPEC §10: unknowns are retried). */
export function classifyBindingError(err: unknown): SendResult {
  const code = bindingErrorCode(err);
  const reason = tenantReason(code);
  return code && PERMANENT_CODES.has(code) ? { status: 'permanent', reason } : { status: 'retryable', reason };
}

/**
 * The id the binding returns and the id its delivery events carry name the same message; the
 * binding under `wrangler dev` returns it as an RFC 5322 `<…>` Message-ID, the events' examples
 * without the brackets, so both are kept without them.
 */
export const normalizeMessageId = (id: string) => id.trim().replace(/^<(.*)>$/, '$1');

/**
 * Test hook: when a test installs `globalThis.__mailTap`, each raw message handed to the binding
 * is also given to it (the binding still sends). Production never sets it.
 */
type MailTap = (raw: string, to: string) => void;

/**
 * The `EMAIL` send_email binding: the mimetext message; `.eml` files under `wrangler dev`. `secrets`
 * (a configured `EMAIL_API_KEY`) are redacted from the operator's log line too.
 */
export function cloudflareTransport(
  binding: SendEmail,
  secrets: readonly (string | null | undefined)[] = [],
): Transport {
  return {
    name: 'cloudflare',
    // Email Sending documents daily quotas and an E_RATE_LIMIT_EXCEEDED code, but no per-second
    // rate (https://developers.cloudflare.com/email-service/platform/limits/): not paced unless
    // EMAIL_SEND_RATE_PER_SECOND is set.
    defaultSendRatePerSecond: null,
    async send(email: OutgoingEmail): Promise<SendResult> {
      const raw = buildMime(email);
      try {
        const result = await binding.send(new EmailMessage(email.from, email.to, raw));
        (globalThis as { __mailTap?: MailTap }).__mailTap?.(raw, email.to);
        const id = typeof result?.messageId === 'string' ? normalizeMessageId(result.messageId) : '';
        return { status: 'sent', providerMessageId: id ? id.slice(0, 200) : null };
      } catch (err) {
        // Operators: the runtime's words, in one log line for the outbox row; tenants: the fixed phrase.
        logProviderError({
          provider: 'cloudflare',
          outboxId: email.idempotencyKey,
          code: bindingErrorCode(err),
          detail: errorMessage(err, 500, secrets),
          secrets,
        });
        return classifyBindingError(err);
      }
    },
  };
}

/**
 * Email Sending's delivery events, as its queue event subscription publishes them
 * (https://developers.cloudflare.com/email-service/platform/event-subscriptions/, "Available Email
 * Sending events"; created with `wrangler queues subscription create <queue> --source email.sending
 * --zone-id … --domain … --events message.delivered,…`). One message is one event:
 *
 *   { "type": "cf.email.sending.message.bounced",
 *     "source": { "type": "email.sending", "zoneId": "…", "domain": "example.com" },
 *     "payload": { "eventId": "…", "messageId": "…", "sender": "…", "recipient": "…",
 *                  "terminal": true, "delivery": { "status": "bounced", "smtpResponse": "…", … },
 *                  "bounce": { "type": "hard", "classification": "…", "reason": "…" } },
 *     "metadata": { "accountId": "…", "eventSubscriptionId": "…", "eventSchemaVersion": 1,
 *                   "eventTimestamp": "…" } }
 *
 * `payload.messageId` is the id `send()` returned. The types and what each means for
 * `email_delivery` (SPEC §10, as for the HTTPS providers' webhooks):
 * - `delivered` (the recipient's server accepted it) → delivered;
 * - `bounced` (a permanent bounce, or temporary retries exhausted) → bounced;
 * - `complained` (marked as spam through a feedback loop) → complained;
 * - `failed` (an internal or non-SMTP delivery error; terminal) → failed;
 * - `rejected` (refused before delivery by policy: suppression, validation, spam) → failed, as
 *   SPEC §10 treats a suppressed recipient refused at send time;
 * - `deferred` (a temporary failure, retries pending; not terminal) → no change, like Postmark's
 *   soft bounces.
 */
const EVENT_TYPE_PREFIX = 'cf.email.sending.message.';
export const EMAIL_SENDING_EVENT_TYPES = [
  'delivered',
  'deferred',
  'bounced',
  'failed',
  'rejected',
  'complained',
] as const;

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
const joined = (...parts: unknown[]) =>
  parts
    .map(text)
    .filter((p): p is string => p !== null)
    .join(': ');

export function readEmailSendingEvent(body: unknown): QueuedEventReading {
  let message = body;
  if (typeof message === 'string') {
    try {
      message = JSON.parse(message);
    } catch {
      return { kind: 'unreadable', reason: 'not JSON' };
    }
  }
  if (!message || typeof message !== 'object' || Array.isArray(message))
    return { kind: 'unreadable', reason: 'not an object' };
  const { type, source, payload } = message as {
    type?: unknown;
    source?: { type?: unknown } | null;
    payload?: Record<string, unknown> | null;
  };
  if (typeof type !== 'string' || !type.startsWith(EVENT_TYPE_PREFIX))
    return { kind: 'unreadable', reason: 'not an Email Sending event type' };
  if (source && typeof source === 'object' && source.type !== undefined && source.type !== 'email.sending')
    return { kind: 'unreadable', reason: 'source is not email.sending' };
  const rawId = payload && typeof payload === 'object' ? payload.messageId : undefined;
  const id = typeof rawId === 'string' ? normalizeMessageId(rawId) : '';
  if (!id || id.length > 200) return { kind: 'unreadable', reason: 'payload.messageId missing' };
  const p = payload as {
    delivery?: { smtpResponse?: unknown } | null;
    bounce?: { type?: unknown; reason?: unknown } | null;
    failure?: { reason?: unknown } | null;
    rejection?: { reason?: unknown; detail?: unknown } | null;
  };
  const short = type.slice(EVENT_TYPE_PREFIX.length);
  const event = (state: ProviderEvent['state'], detail: string | null): QueuedEventReading => ({
    kind: 'event',
    type: short,
    // The provider's words as they came: applyProviderEvent redacts (the API key too) and then cuts.
    event: { providerMessageId: id, state, detail },
  });
  switch (short) {
    case 'delivered':
      return event('delivered', null);
    case 'bounced': {
      const kind = text(p.bounce?.type);
      return event(
        'bounced',
        joined(kind && `${kind} bounce`, p.bounce?.reason ?? p.delivery?.smtpResponse) || 'Bounced',
      );
    }
    case 'complained':
      return event('complained', 'Marked as spam by the recipient');
    case 'failed':
      return event(
        'failed',
        `cloudflare: delivery failed${text(p.failure?.reason) ? ` (${text(p.failure?.reason)})` : ''}`,
      );
    case 'rejected':
      return event(
        'failed',
        joined(
          `cloudflare: rejected${text(p.rejection?.reason) ? ` (${text(p.rejection?.reason)})` : ''}`,
          p.rejection?.detail,
        ),
      );
    default:
      // `deferred`, and any type added later: acknowledged, no state change.
      return { kind: 'ignored', type: short, providerMessageId: id };
  }
}
