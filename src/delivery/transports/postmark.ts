import { timingSafeEqualText } from '../../lib/standard-webhooks';
import { postJson, SEND_TIMEOUT_MS } from './http';
import type { OutgoingEmail, ProviderEvent, ProviderEventParser, SendResult, Transport } from './types';

export const POSTMARK_DEFAULT_BASE_URL = 'https://api.postmarkapp.com';

/**
 * Postmark's `POST /email`: `X-Postmark-Server-Token`, `{From, To, Subject, HtmlBody, TextBody,
 * MessageStream, Headers}`, answered with `{MessageID, ErrorCode: 0}`. A 2xx whose `ErrorCode` is
 * not 0 is a refusal.
 */
export function postmarkTransport(cfg: { apiKey: string; baseUrl?: string; timeoutMs?: number }): Transport {
  const base = (cfg.baseUrl || POSTMARK_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return {
    name: 'postmark',
    // Postmark publishes no per-second API limit (only that a 429 may come, which is retried).
    defaultSendRatePerSecond: null,
    async send(email: OutgoingEmail): Promise<SendResult> {
      let errorCode: unknown = 0;
      const result = await postJson(
        {
          provider: 'postmark',
          url: `${base}/email`,
          headers: { 'X-Postmark-Server-Token': cfg.apiKey },
          body: {
            From: `${email.fromName} <${email.from}>`,
            To: email.to,
            Subject: email.subject,
            HtmlBody: email.html,
            TextBody: email.text,
            MessageStream: 'outbound',
            Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
          },
          timeoutMs: cfg.timeoutMs ?? SEND_TIMEOUT_MS,
          apiKey: cfg.apiKey,
          outboxId: email.idempotencyKey,
        },
        (json) => {
          errorCode = json.ErrorCode;
          return json.MessageID;
        },
      );
      if (result.status === 'sent' && errorCode !== 0)
        return { status: 'permanent', reason: `postmark ErrorCode ${String(errorCode)}` };
      return result;
    },
  };
}

/** Bounce types that say nothing about the address (soft, auto-replies): no state change. */
const TRANSIENT = new Set([
  'Transient',
  'SoftBounce',
  'AutoResponder',
  'DnsError',
  'OpenRelayTest',
  'ChallengeVerification',
]);

/**
 * Postmark's webhooks authenticate with HTTP Basic credentials set on the webhook's URL; the
 * secret is `user:password`. Records: Delivery, Bounce, SpamComplaint.
 */
export const parsePostmarkEvent: ProviderEventParser = async (request, body, secret) => {
  const given = request.headers.get('Authorization') ?? '';
  if (!(await timingSafeEqualText(given, `Basic ${btoa(secret)}`))) return 'unauthorized';
  const record = JSON.parse(body) as {
    RecordType?: unknown;
    MessageID?: unknown;
    Type?: unknown;
    Description?: unknown;
  };
  const id = record.MessageID;
  // Postmark's webhooks carry no delivery id or signed timestamp: nothing to recognize a replay by.
  const delivery = (events: ProviderEvent[]) => ({ deliveryId: null, events });
  if (typeof id !== 'string') return delivery([]);
  // The provider's words as they came: applyProviderEvent redacts (the API key too) and then cuts.
  const event = (state: ProviderEvent['state'], detail: string | null) =>
    delivery([{ providerMessageId: id, state, detail }]);
  switch (record.RecordType) {
    case 'Delivery':
      return event('delivered', null);
    case 'Bounce':
      if (typeof record.Type === 'string' && TRANSIENT.has(record.Type)) return delivery([]);
      return event(
        'bounced',
        [record.Type, record.Description].filter((v) => typeof v === 'string').join(': ') || 'Bounced',
      );
    case 'SpamComplaint':
      return event('complained', 'Marked as spam by the recipient');
    default:
      return delivery([]);
  }
};
