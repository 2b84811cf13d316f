import { html } from 'hono/html';
import type { OutgoingMail } from './mime';

const escapeText = (s: string) => s.replace(/[\r\n]+/g, ' ');

/**
 * A display name as it appears in a subject: at most 100 characters (the schemas' limit; older
 * rows may hold more), so a subject stays short whatever the names (SPEC §14).
 */
export const subjectName = (name: string) => {
  const flat = escapeText(name).trim();
  const chars = [...flat];
  return chars.length > 100 ? `${chars.slice(0, 99).join('')}…` : flat;
};

const formatDate = (ms: number) =>
  new Date(ms).toLocaleString('en-US', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';

const ROLE_LABEL: Record<string, string> = {
  owner: 'Owner',
  admin: 'Admin',
  developer: 'Developer',
  viewer: 'Viewer',
  billing: 'Billing',
};

export interface InvitationMailInput {
  to: string;
  inviterName: string;
  organizationName: string;
  role: string;
  message: string | null;
  link: string;
  expiresAt: number;
}

/** The invitation email. Every user-supplied value is HTML-escaped by `html`. */
export function invitationMail(i: InvitationMailInput): OutgoingMail {
  const role = ROLE_LABEL[i.role] ?? i.role;
  const expires = formatDate(i.expiresAt);
  const text = [
    `${escapeText(i.inviterName)} invited you to join ${escapeText(i.organizationName)} on 8bit-ai as ${role}.`,
    ...(i.message ? ['', `Message from ${escapeText(i.inviterName)}:`, i.message] : []),
    '',
    `Accept the invitation: ${i.link}`,
    '',
    `This link expires on ${expires}. If you were not expecting it, ignore this email.`,
  ].join('\n');
  const body = html`<!doctype html>
<html><body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px">
<h1 style="font-size:20px">Join ${i.organizationName} on 8bit-ai</h1>
<p><strong>${i.inviterName}</strong> invited you to join <strong>${i.organizationName}</strong> as <strong>${role}</strong>.</p>
${i.message ? html`<blockquote style="border-left:3px solid #ddd;margin:16px 0;padding:4px 12px;color:#333;white-space:pre-wrap">${i.message}</blockquote>` : ''}
<p><a href="${i.link}" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">Accept invitation</a></p>
<p style="color:#555;font-size:13px">Or open this link: ${i.link}</p>
<p style="color:#555;font-size:13px">This link expires on ${expires}. If you were not expecting it, ignore this email.</p>
</body></html>`;
  return {
    to: i.to,
    subject: `${subjectName(i.inviterName)} invited you to join ${subjectName(i.organizationName)} on 8bit-ai`,
    text,
    html: String(body),
  };
}

/** The sign-in link email. */
export function signInMail(to: string, link: string): OutgoingMail {
  return {
    to,
    subject: 'Your 8bit-ai sign-in link',
    text: `Sign in to 8bit-ai: ${link}\n\nThe link works once and expires in 15 minutes. If you did not ask for it, ignore this email.`,
    html: String(html`<!doctype html><html><body style="font-family:system-ui,sans-serif">
<p><a href="${link}">Sign in to 8bit-ai</a></p>
<p style="color:#555;font-size:13px">Or open this link: ${link}</p>
<p style="color:#555;font-size:13px">The link works once and expires in 15 minutes. If you did not ask for it, ignore this email.</p>
</body></html>`),
  };
}
