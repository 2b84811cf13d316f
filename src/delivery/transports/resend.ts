import { verifyStandardWebhook } from '../../lib/standard-webhooks';
import { postJson, SEND_TIMEOUT_MS } from './http';
import type { OutgoingEmail, ProviderEvent, ProviderEventParser, SendResult, Transport } from './types';

export const RESEND_DEFAULT_BASE_URL = 'https://api.resend.com';

/**
 * Resend's documented default rate limit is 5 requests per second per team, shared by every API
 * key of the team (https://resend.com/docs/api-reference/rate-limit; earlier it was 2). Four
 * leaves one a second to whatever else the team calls; a team whose limit differs sets
 * `EMAIL_SEND_RATE_PER_SECOND`.
 */
export const RESEND_SEND_RATE_PER_SECOND = 4;

/**
 * Resend's `POST /emails`: Bearer key, `{from, to, subject, html, text, headers}`, answered with
 * `{id}`. The outbox row id is the `Idempotency-Key`, so a retry after a lost answer is not a
 * second email.
 */
export function resendTransport(cfg: { apiKey: string; baseUrl?: string; timeoutMs?: number }): Transport {
  const base = (cfg.baseUrl || RESEND_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return {
    name: 'resend',
    defaultSendRatePerSecond: RESEND_SEND_RATE_PER_SECOND,
    send(email: OutgoingEmail): Promise<SendResult> {
      return postJson(
        {
          provider: 'resend',
          url: `${base}/emails`,
          headers: { Authorization: `Bearer ${cfg.apiKey}`, 'Idempotency-Key': email.idempotencyKey },
          body: {
            from: `${email.fromName} <${email.from}>`,
            to: [email.to],
            subject: email.subject,
            html: email.html,
            text: email.text,
            headers: email.headers,
          },
          timeoutMs: cfg.timeoutMs ?? SEND_TIMEOUT_MS,
          apiKey: cfg.apiKey,
          outboxId: email.idempotencyKey,
        },
        (json) => json.id,
      );
    },
  };
}

const STATES: Record<string, ProviderEvent['state']> = {
  'email.delivered': 'delivered',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
};

/**
 * Resend's event webhook, signed by Svix: `svix-id`, `svix-timestamp`, `svix-signature` with the
 * endpoint's `whsec_` secret. Other event types are accepted and ignored.
 */
export const parseResendEvent: ProviderEventParser = async (request, body, secret, nowMs) => {
  const ok = await verifyStandardWebhook(
    secret,
    {
      id: request.headers.get('svix-id'),
      timestamp: request.headers.get('svix-timestamp'),
      signature: request.headers.get('svix-signature'),
    },
    body,
    nowMs,
  );
  if (!ok) return 'unauthorized';
  const event = JSON.parse(body) as {
    type?: unknown;
    data?: { email_id?: unknown; bounce?: { message?: unknown; type?: unknown } };
  };
  const state = typeof event.type === 'string' ? STATES[event.type] : undefined;
  const id = event.data?.email_id;
  // Verified above: present, and at most 256 characters.
  const deliveryId = request.headers.get('svix-id');
  if (!state || typeof id !== 'string') return { deliveryId, events: [] };
  const bounce = event.data?.bounce;
  const detail =
    state === 'bounced'
      ? [bounce?.type, bounce?.message].filter((v) => typeof v === 'string').join(': ') || 'Bounced'
      : state === 'complained'
        ? 'Marked as spam by the recipient'
        : null;
  // The provider's words as they came: applyProviderEvent redacts (the API key too) and then cuts.
  return { deliveryId, events: [{ providerMessageId: id, state, detail }] };
};
