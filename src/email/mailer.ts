import { EmailMessage } from 'cloudflare:email';
import { createMimeMessage } from 'mimetext';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Collapses CR, LF and other control characters so no value can start a new header line. */
export const headerSafe = (value: string) => value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();

/**
 * 7bit only when it really is 7bit (ASCII, lines within the 998-octet limit); otherwise base64 of
 * the UTF-8 bytes in 76-character lines, so names like "José" and long messages survive any relay.
 */
export function encodeBody(text: string): { encoding: '7bit' | 'base64'; data: string } {
  const ascii = /^[\x00-\x7f]*$/.test(text);
  if (ascii && text.split('\n').every((line) => line.length <= 998)) return { encoding: '7bit', data: text };
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return { encoding: 'base64', data: btoa(bin).replace(/.{76}/g, '$&\n').trimEnd() };
}

/** Builds the raw RFC 5322 message: multipart/alternative with plain text and HTML. */
export function buildMime(from: string, mail: OutgoingMail): string {
  const msg = createMimeMessage();
  msg.setSender({ name: '8bit-ai', addr: from });
  msg.setRecipient(mail.to);
  msg.setSubject(headerSafe(mail.subject));
  msg.setHeader('Auto-Submitted', 'auto-generated');
  msg.addMessage({ contentType: 'text/plain', ...encodeBody(mail.text) });
  msg.addMessage({ contentType: 'text/html', ...encodeBody(mail.html) });
  return msg.asRaw();
}

/**
 * Test hooks: when a test installs `globalThis.__mailTap`, every message handed to the binding is
 * also given to it (the real binding still sends). Production never sets either hook.
 */
type MailTap = (raw: string, to: string) => void;
/** Test hook: fault injection; when installed and it throws, the send fails as a binding error would. */
type MailFault = (to: string) => void | Promise<void>;

/** Sends through the `send_email` binding; throws if the binding refuses. */
export async function sendMail(env: Pick<Env, 'EMAIL' | 'EMAIL_FROM'>, mail: OutgoingMail): Promise<void> {
  const raw = buildMime(env.EMAIL_FROM, mail);
  await (globalThis as { __mailFault?: MailFault }).__mailFault?.(mail.to);
  await env.EMAIL.send(new EmailMessage(env.EMAIL_FROM, mail.to, raw));
  (globalThis as { __mailTap?: MailTap }).__mailTap?.(raw, mail.to);
}
