import { EmailMessage } from 'cloudflare:email';
import { buildMime } from '../../email/mime';
import { errorMessage } from '../../lib/redact';
import type { OutgoingEmail, SendResult, Transport } from './types';

/**
 * Errors of the `send_email` binding that no retry can fix: an unverified sender or recipient, a
 * refused address, an invalid message. Anything else (a hiccup of the service) is retried.
 */
const PERMANENT = /E_SENDER|E_RECIPIENT|E_VALIDATION|E_HEADER|E_CONTENT|not verified|unverified|not allowed|invalid/i;

/**
 * Test hook: when a test installs `globalThis.__mailTap`, each raw message handed to the binding
 * is also given to it (the binding still sends). Production never sets it.
 */
type MailTap = (raw: string, to: string) => void;

/** The `EMAIL` send_email binding: the mimetext message; `.eml` files under `wrangler dev`. */
export function cloudflareTransport(binding: SendEmail): Transport {
  return {
    name: 'cloudflare',
    async send(email: OutgoingEmail): Promise<SendResult> {
      const raw = buildMime(email);
      try {
        const result = await binding.send(new EmailMessage(email.from, email.to, raw));
        (globalThis as { __mailTap?: MailTap }).__mailTap?.(raw, email.to);
        return { status: 'sent', providerMessageId: result?.messageId ?? null };
      } catch (err) {
        const reason = `cloudflare: ${errorMessage(err, 180)}`;
        return PERMANENT.test(reason) ? { status: 'permanent', reason } : { status: 'retryable', reason };
      }
    },
  };
}
