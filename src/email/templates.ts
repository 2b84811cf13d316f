import { html, raw } from 'hono/html';
import type { Locale } from '../db/schema';
import { formatDate, htmlMessage, roleName, t } from '../i18n/messages';
import type { OutgoingMail } from './mime';

/** A value on one line (for plain-text bodies and subjects). */
export const escapeText = (s: string) => s.replace(/[\r\n]+/g, ' ');

/**
 * A display name as it appears in a subject: at most 100 characters (the schemas' limit; older
 * rows may hold more), so a subject stays short whatever the names (SPEC §14).
 */
export const subjectName = (name: string) => {
  const flat = escapeText(name).trim();
  const chars = [...flat];
  return chars.length > 100 ? `${chars.slice(0, 99).join('')}…` : flat;
};

export interface InvitationMailInput {
  to: string;
  inviterName: string;
  organizationName: string;
  role: string;
  message: string | null;
  link: string;
  expiresAt: number;
  /** The invitee's language (SPEC §12); `en` when absent. */
  locale?: Locale;
}

/** The invitation email, in the invitation's locale. Every user-supplied value is HTML-escaped by `html`. */
export function invitationMail(i: InvitationMailInput): OutgoingMail {
  const locale = i.locale ?? 'en';
  const role = roleName(locale, i.role);
  const inviter = escapeText(i.inviterName);
  const org = escapeText(i.organizationName);
  const expires = formatDate(locale, i.expiresAt);
  const text = [
    t(locale, 'email.intro', { inviter, org, role }),
    ...(i.message ? ['', t(locale, 'email.message_from', { inviter }), i.message] : []),
    '',
    t(locale, 'email.accept_line', { link: i.link }),
    '',
    t(locale, 'email.expires', { date: expires }),
  ].join('\n');
  const body = html`<!doctype html>
<html lang="${locale}"><body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px">
<h1 style="font-size:20px">${raw(htmlMessage(locale, 'email.heading', { org: i.organizationName }))}</h1>
<p>${raw(htmlMessage(locale, 'email.intro', { inviter: i.inviterName, org: i.organizationName, role }, ['inviter', 'org', 'role']))}</p>
${i.message ? html`<blockquote style="border-left:3px solid #ddd;margin:16px 0;padding:4px 12px;color:#333;white-space:pre-wrap">${i.message}</blockquote>` : ''}
<p><a href="${i.link}" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${t(locale, 'email.accept_button')}</a></p>
<p style="color:#555;font-size:13px">${t(locale, 'email.or_open', { link: i.link })}</p>
<p style="color:#555;font-size:13px">${t(locale, 'email.expires', { date: expires })}</p>
</body></html>`;
  return {
    to: i.to,
    subject: t(locale, 'email.subject', { inviter: subjectName(i.inviterName), org: subjectName(i.organizationName) }),
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

export interface ApiTokenMailInput {
  to: string;
  tokenName: string;
  createdAt: number;
  /** Null only for tokens older than the 90-day default. */
  expiresAt: number | null;
  /** Revoked by the time the email left: it says so. */
  revoked: boolean;
  /** The Account page, where the token is revoked. */
  accountLink: string;
  locale: Locale;
}

/** The lines of the token email in one language, as plain text. */
function apiTokenLines(locale: Locale, i: ApiTokenMailInput): string[] {
  return [
    t(locale, 'token_email.intro', {
      name: escapeText(i.tokenName),
      email: i.to,
      date: formatDate(locale, i.createdAt),
    }),
    ...(i.revoked
      ? [t(locale, 'token_email.revoked')]
      : i.expiresAt !== null
        ? [t(locale, 'token_email.expires', { date: formatDate(locale, i.expiresAt) })]
        : []),
    '',
    t(locale, 'token_email.you'),
    t(locale, 'token_email.not_you', { link: i.accountLink }),
  ];
}

/**
 * The email that tells an account of a new personal API token (SPEC §18). It never carries the
 * token. It speaks the language of the browser that created the token, with English after it:
 * whoever created the token chose that language, and the account's owner must read the warning.
 */
export function apiTokenMail(i: ApiTokenMailInput): OutgoingMail {
  const locales: Locale[] = i.locale === 'en' ? ['en'] : [i.locale, 'en'];
  const section = (locale: Locale) => html`<section lang="${locale}">
<h1 style="font-size:20px">${t(locale, 'token_email.heading')}</h1>
<p>${raw(htmlMessage(locale, 'token_email.intro', { name: i.tokenName, email: i.to, date: formatDate(locale, i.createdAt) }, ['name']))}</p>
${i.revoked ? html`<p>${t(locale, 'token_email.revoked')}</p>` : i.expiresAt !== null ? html`<p>${t(locale, 'token_email.expires', { date: formatDate(locale, i.expiresAt) })}</p>` : ''}
<p>${t(locale, 'token_email.you')}</p>
<p><a href="${i.accountLink}" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${t(locale, 'token_email.button')}</a></p>
<p style="color:#555;font-size:13px">${t(locale, 'token_email.not_you', { link: i.accountLink })}</p>
</section>`;
  const body = html`<!doctype html>
<html lang="${i.locale}"><body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px">
${locales.map((l, n) => html`${n > 0 ? raw('<hr style="border:0;border-top:1px solid #ddd;margin:24px 0">') : ''}${section(l)}`)}
</body></html>`;
  return {
    to: i.to,
    subject: locales.map((l) => t(l, 'token_email.subject')).join(' / '),
    text: locales.map((l) => apiTokenLines(l, i).join('\n')).join('\n\n---\n\n'),
    html: String(body),
  };
}

/** A call to action, as every email here draws it. */
export const button = (href: string, label: string) =>
  html`<p><a href="${href}" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${label}</a></p>`;

/** An email's HTML page around `content`, in `locale`. */
export const page = (locale: Locale, content: unknown) =>
  String(html`<!doctype html>
<html lang="${locale}"><body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px">
${content}
</body></html>`);

export interface JoinRequestMailInput {
  /** The owner or admin told. */
  to: string;
  requesterName: string;
  requesterEmail: string;
  organizationName: string;
  role: string;
  /** Settings > Team, where the request is approved or rejected. */
  link: string;
  locale: Locale;
}

/** To an owner or admin: someone asks to join (SPEC §16). No token: the link is the Team page. */
export function joinRequestMail(i: JoinRequestMailInput): OutgoingMail {
  const { locale } = i;
  const role = roleName(locale, i.role);
  const vars = { name: i.requesterName, email: i.requesterEmail, org: i.organizationName, role };
  const flat = { ...vars, name: escapeText(i.requesterName), org: escapeText(i.organizationName) };
  const text = [
    t(locale, 'join_email.intro', flat),
    '',
    t(locale, 'join_email.review_line', { link: i.link }),
    '',
    t(locale, 'join_email.why', { org: flat.org }),
  ].join('\n');
  const body = html`<h1 style="font-size:20px">${raw(htmlMessage(locale, 'join_email.heading', { org: i.organizationName }))}</h1>
<p>${raw(htmlMessage(locale, 'join_email.intro', vars, ['name', 'org', 'role']))}</p>
${button(i.link, t(locale, 'join_email.button'))}
<p style="color:#555;font-size:13px">${t(locale, 'email.or_open', { link: i.link })}</p>
<p style="color:#555;font-size:13px">${raw(htmlMessage(locale, 'join_email.why', { org: i.organizationName }))}</p>`;
  return {
    to: i.to,
    subject: t(locale, 'join_email.subject', {
      name: subjectName(i.requesterName),
      org: subjectName(i.organizationName),
    }),
    text,
    html: page(locale, body),
  };
}

export interface JoinDecisionMailInput {
  /** The requester. */
  to: string;
  organizationName: string;
  approved: boolean;
  /** The role granted (approved). */
  role: string;
  /** Why it was rejected, when the decider said. */
  reason: string | null;
  /** The organization (approved). */
  link: string;
  locale: Locale;
}

/** To the requester: their join request was approved (with a link in) or rejected (with the reason given). */
export function joinDecisionMail(i: JoinDecisionMailInput): OutgoingMail {
  const { locale } = i;
  const org = escapeText(i.organizationName);
  const role = roleName(locale, i.role);
  const reason = !i.approved && i.reason ? i.reason : null;
  const text = i.approved
    ? [
        t(locale, 'decision_email.approved_intro', { org, role }),
        '',
        t(locale, 'decision_email.open_line', { org, link: i.link }),
      ]
    : [
        t(locale, 'decision_email.rejected_intro', { org }),
        ...(reason ? ['', t(locale, 'decision_email.reason'), reason] : []),
      ];
  const subjectKey = i.approved ? 'decision_email.approved_subject' : 'decision_email.rejected_subject';
  const body = html`<h1 style="font-size:20px">${raw(htmlMessage(locale, subjectKey, { org: i.organizationName }))}</h1>
${
  i.approved
    ? html`<p>${raw(htmlMessage(locale, 'decision_email.approved_intro', { org: i.organizationName, role }, ['org', 'role']))}</p>
${button(i.link, t(locale, 'decision_email.open_button', { org }))}
<p style="color:#555;font-size:13px">${t(locale, 'email.or_open', { link: i.link })}</p>`
    : html`<p>${raw(htmlMessage(locale, 'decision_email.rejected_intro', { org: i.organizationName }, ['org']))}</p>
${reason ? html`<p>${t(locale, 'decision_email.reason')}</p><blockquote style="border-left:3px solid #ddd;margin:16px 0;padding:4px 12px;color:#333;white-space:pre-wrap">${reason}</blockquote>` : ''}`
}`;
  return {
    to: i.to,
    subject: t(locale, subjectKey, { org: subjectName(i.organizationName) }),
    text: text.join('\n'),
    html: page(locale, body),
  };
}
