import { cloudflareTransport, readEmailSendingEvent } from './cloudflare';
import { parsePostmarkEvent, postmarkTransport } from './postmark';
import { parseResendEvent, resendTransport } from './resend';
import type { ProviderEventParser, QueuedEventReading, Transport } from './types';

export type { OutgoingEmail, ProviderEvent, QueuedEventReading, SendResult, Transport } from './types';

type TransportEnv = Pick<Env, 'EMAIL' | 'EMAIL_TRANSPORT' | 'EMAIL_API_BASE_URL'> & { EMAIL_API_KEY?: string };

export type TransportChoice = { ok: true; transport: Transport } | { ok: false; reason: string };

/** The transport `EMAIL_TRANSPORT` names, or why it cannot work (SPEC §10 misconfiguration). */
export function transportFor(env: TransportEnv): TransportChoice {
  const name = (env.EMAIL_TRANSPORT || 'cloudflare').trim().toLowerCase();
  const apiKey = env.EMAIL_API_KEY?.trim();
  const baseUrl = env.EMAIL_API_BASE_URL?.trim() || undefined;
  if (baseUrl && !/^https?:\/\/[^\s/]+/.test(baseUrl))
    return { ok: false, reason: `EMAIL_API_BASE_URL is not an http(s) URL` };
  switch (name) {
    case 'cloudflare':
      return env.EMAIL
        ? { ok: true, transport: cloudflareTransport(env.EMAIL, [apiKey]) }
        : { ok: false, reason: 'EMAIL_TRANSPORT is cloudflare but the EMAIL send_email binding is missing' };
    case 'resend':
    case 'postmark':
      if (!apiKey) return { ok: false, reason: `EMAIL_TRANSPORT is ${name} but the secret EMAIL_API_KEY is not set` };
      return {
        ok: true,
        transport: name === 'resend' ? resendTransport({ apiKey, baseUrl }) : postmarkTransport({ apiKey, baseUrl }),
      };
    default:
      return {
        ok: false,
        reason: `EMAIL_TRANSPORT "${name.slice(0, 40)}" is unknown (cloudflare, resend or postmark)`,
      };
  }
}

/** The event-webhook reader of each provider that has one, by the path segment it is posted to. */
export const EVENT_PARSERS: Readonly<Record<string, ProviderEventParser>> = Object.freeze({
  resend: parseResendEvent,
  postmark: parsePostmarkEvent,
});

/**
 * The reader of delivery events that arrive on the email-events queue (a provider's event
 * subscription publishes them there; today only the `cloudflare` transport's Email Sending does).
 */
export const readQueuedEmailEvent: (body: unknown) => QueuedEventReading = readEmailSendingEvent;
