import { html, raw } from 'hono/html';
import type { Locale } from '../db/schema';
import { formatDate, htmlMessage, roleName, t } from '../i18n/messages';
import type { OutgoingMail } from './mime';
import { button, escapeText, page, subjectName } from './templates';

/*
 * The emails of the invitee's side (SPEC §17): the reminder to the invitee before the invitation
 * expires (in the invitation's language, with its current link), and the two to the inviter when
 * the invitee declines or asks for a new invitation (in the organization's default language, with
 * a link to Settings > Team). The inviter's emails carry no token.
 */

const small = (content: unknown) => html`<p style="color:#555;font-size:13px">${content}</p>`;

export interface ReminderMailInput {
  to: string;
  inviterName: string;
  organizationName: string;
  role: string;
  /** The invitation's current link: the one its last email carried. */
  link: string;
  /** The same link's decline page, which never accepts. */
  declineLink: string;
  expiresAt: number;
  locale: Locale;
}

/** To the invitee, once per sending, some days before the invitation expires. */
export function reminderMail(i: ReminderMailInput): OutgoingMail {
  const { locale } = i;
  const role = roleName(locale, i.role);
  const date = formatDate(locale, i.expiresAt);
  const inviter = escapeText(i.inviterName);
  const org = escapeText(i.organizationName);
  const text = [
    t(locale, 'reminder_email.intro', { inviter, org, role, date }),
    '',
    t(locale, 'email.accept_line', { link: i.link }),
    '',
    t(locale, 'reminder_email.decline', { inviter }),
    i.declineLink,
  ].join('\n');
  const vars = { inviter: i.inviterName, org: i.organizationName, role, date };
  const body = html`<h1 style="font-size:20px">${raw(htmlMessage(locale, 'reminder_email.heading', { org: i.organizationName }))}</h1>
<p>${raw(htmlMessage(locale, 'reminder_email.intro', vars, ['inviter', 'org', 'role']))}</p>
${button(i.link, t(locale, 'email.accept_button'))}
${small(t(locale, 'email.or_open', { link: i.link }))}
${small(html`<a href="${i.declineLink}" style="color:#555">${raw(htmlMessage(locale, 'reminder_email.decline', { inviter: i.inviterName }))}</a>`)}`;
  return {
    to: i.to,
    subject: t(locale, 'reminder_email.subject', { org: subjectName(i.organizationName), date }),
    text,
    html: page(locale, body),
  };
}

export interface InviterMailInput {
  /** The inviter. */
  to: string;
  /** Whom they invited. */
  inviteeEmail: string;
  organizationName: string;
  role: string;
  /** Settings > Team, where the invitation is listed (and resent). */
  link: string;
  locale: Locale;
}

/** The inviter's email: a heading that is the subject, what happened, what they can do, and why they hear of it. */
function inviterMail(
  i: InviterMailInput,
  keys: {
    subject: 'declined_email.subject' | 'reinvite_email.subject';
    intro: 'declined_email.intro' | 'reinvite_email.intro';
    next: 'declined_email.again' | 'reinvite_email.resend_line';
  },
  extra: Record<string, string> = {},
): OutgoingMail {
  const { locale } = i;
  const role = roleName(locale, i.role);
  const org = escapeText(i.organizationName);
  const why = { email: i.inviteeEmail, org: i.organizationName };
  const text = [
    t(locale, keys.intro, { email: i.inviteeEmail, org, role, ...extra }),
    '',
    t(locale, keys.next, { link: i.link }),
    '',
    t(locale, 'inviter_email.why', { ...why, org }),
  ].join('\n');
  const vars = { email: i.inviteeEmail, org: i.organizationName, role, ...extra };
  const body = html`<h1 style="font-size:20px">${raw(htmlMessage(locale, keys.subject, why))}</h1>
<p>${raw(htmlMessage(locale, keys.intro, vars, ['email', 'org', 'role']))}</p>
${button(i.link, t(locale, 'inviter_email.team_button'))}
${small(t(locale, 'email.or_open', { link: i.link }))}
${small(raw(htmlMessage(locale, 'inviter_email.why', why)))}`;
  return {
    to: i.to,
    subject: t(locale, keys.subject, { email: subjectName(i.inviteeEmail), org: subjectName(i.organizationName) }),
    text,
    html: page(locale, body),
  };
}

/** To the inviter: the invitee declined (SPEC §17). */
export const declinedMail = (i: InviterMailInput): OutgoingMail =>
  inviterMail(i, { subject: 'declined_email.subject', intro: 'declined_email.intro', next: 'declined_email.again' });

/** To the inviter: the invitee of an expired invitation asks for a new one (SPEC §17). */
export const reinviteRequestMail = (i: InviterMailInput & { expiredAt: number }): OutgoingMail =>
  inviterMail(
    i,
    { subject: 'reinvite_email.subject', intro: 'reinvite_email.intro', next: 'reinvite_email.resend_line' },
    { date: formatDate(i.locale, i.expiredAt) },
  );
