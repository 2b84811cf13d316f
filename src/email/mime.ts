import { createMimeMessage } from 'mimetext';

/** What an email says: the templates make it, the delivery pipeline addresses and sends it. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A message with its envelope, ready to encode. */
export interface AddressedMail extends OutgoingMail {
  from: string;
  fromName: string;
  headers: Record<string, string>;
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

/**
 * A header value as RFC 2047 encoded words of at most 45 UTF-8 bytes each (75 characters encoded),
 * folded one word per line: no header line comes near the 998-octet limit of RFC 5322, however
 * long the value. A code point is never split across words.
 */
export function foldedEncodedWords(value: string, eol: string): string {
  const words: string[] = [];
  let chunk = '';
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  for (const ch of value) {
    if (chunk && bytes(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk || words.length === 0) words.push(chunk);
  const b64 = (s: string) => {
    let bin = '';
    for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
    return btoa(bin);
  };
  return words.map((w) => `=?utf-8?B?${b64(w)}?=`).join(`${eol} `);
}

/** Builds the raw RFC 5322 message: multipart/alternative with plain text and HTML. */
export function buildMime(mail: AddressedMail): string {
  const msg = createMimeMessage();
  msg.setSender({ name: headerSafe(mail.fromName), addr: mail.from });
  msg.setRecipient(mail.to);
  msg.setSubject(headerSafe(mail.subject));
  for (const [name, value] of Object.entries(mail.headers)) msg.setHeader(name, headerSafe(value));
  msg.addMessage({ contentType: 'text/plain', ...encodeBody(mail.text) });
  msg.addMessage({ contentType: 'text/html', ...encodeBody(mail.html) });
  const raw = msg.asRaw();
  // mimetext writes the subject as one encoded word on one line, whatever its length: fold it.
  const eol = raw.includes('\r\n') ? '\r\n' : '\n';
  return raw.replace(/^Subject: [^\r\n]*/m, () => `Subject: ${foldedEncodedWords(headerSafe(mail.subject), eol)}`);
}
