import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { describe, it } from 'vitest';
import { dueReminderOrganizationsSql } from '../src/cron';
import worker from '../src/index';
import { DAY_MS } from '../src/lib/time';
import { Browser } from './browser-client';
import {
  call,
  drainOutbox,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * Independent review of issue 21 (SPEC §17, the invitee's side). Each test is one finding and fails
 * on the code as reviewed (b1006d4):
 * 1. The reminder tells the invitee to decline by opening "the link"; for an invitee signed in as
 *    the invited email that link accepts on GET (SPEC §5), so following the instruction joins them.
 * 2. The cron's "which organizations have reminders due" query reads every live pending invitation
 *    expiring within 29 days (about two rows each) on every tick, whatever is due.
 * 3. Reminders go to addresses whose invitation email hard-bounced or was marked as spam.
 * 4. The README says owners set the reminder horizon in the organization settings; the form has no
 *    such field.
 * 5. Asking again with a resent-away link answers 409 naming what later became of the invitation,
 *    where the README (and SPEC §3's "old link after resend") say 410.
 */

async function tick(now = Date.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: now, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Moves an invitation's sending `days` into the past. */
async function age(id: string, days: number) {
  await env.DB.prepare(
    'UPDATE invitations SET expires_at = expires_at - ?1, last_sent_at = last_sent_at - ?1, created_at = created_at - ?1, remind_at = remind_at - ?1 WHERE id = ?2',
  )
    .bind(days * DAY_MS, id)
    .run();
}

const status = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM invitations WHERE id = ?').bind(id).first<{ status: string }>())?.status;

const reminderRows = async (id: string) =>
  (
    await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'invitation_reminder_email' AND subject_id = ?")
      .bind(id)
      .first<{ n: number }>()
  )?.n ?? 0;

describe('review (issue 21): reminders', () => {
  it('following the reminder\'s "decline" instruction as a signed-in invitee does not make them a member', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Reminder Decline Co');
    // The invitee already has an account (a member of some other organization, signed in).
    const me = await signUp(uniqueEmail('remindme'), 'Rae Reminded');
    const inv = (await invite(owner.token, org.id, { email: me.email, role: 'viewer' })).json;
    await age(inv.id, 6);
    await tick();
    await drainOutbox();
    const mail = await parseMail(mailsTo(me.email).at(-1)!.raw);
    expect(mail.subject).toMatch(/Reminder/);
    // The reminder tells the invitee how to decline.
    const html = mail.html ?? '';
    const paragraphs = html.split(/<\/p>/).filter((p) => /Decline/i.test(p));
    expect(paragraphs.length).toBeGreaterThan(0);
    // The link the decline instruction points to: its own, or else "the link" of the email.
    const own = paragraphs.flatMap((p) => [...p.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&')));
    const link = own[0] ?? `/invitations/accept?token=${encodeURIComponent(await lastToken(me.email))}`;
    const path = link.replace(/^https?:\/\/[^/]+/, '');
    // The invitee, signed in, follows it to decline...
    const b = new Browser().signInAs(me.token);
    const page = await b.get(path);
    // ...and must be offered Decline, not be joined to the organization on the spot.
    expect(await status(inv.id)).toBe('pending');
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/action="[^"]*decline"/);
  });

  it('the cron query that finds organizations with reminders due reads rows in proportion to what is due, not to every pending invitation', async ({
    expect,
  }) => {
    // 40 live pending invitations, none due (7 days to live, a 2-day horizon).
    for (let o = 0; o < 4; o++) {
      const { owner, org } = await ownerWithOrg(`Not Due ${o}`);
      const res = await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, {
        token: owner.token,
        body: { invitations: Array.from({ length: 10 }, () => ({ email: uniqueEmail('nd'), role: 'viewer' })) },
      });
      expect(res.status).toBe(200);
    }
    const q = new SQLiteAsyncDialect().sqlToQuery(dueReminderOrganizationsSql(Date.now()));
    const result = await env.DB.prepare(q.sql)
      .bind(...q.params)
      .all();
    expect(result.results).toEqual([]);
    // Nothing is due, yet every live pending invitation of every organization is read, every minute.
    expect(result.meta.rows_read).toBeLessThan(40);
  });

  it('no reminder to an address that marked the invitation as spam (complained) or hard-bounced', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Complaint Co');
    const ids: string[] = [];
    for (const state of ['complained', 'bounced']) {
      const inv = (await invite(owner.token, org.id, { email: uniqueEmail(state), role: 'viewer' })).json;
      await env.DB.prepare('UPDATE invitations SET email_delivery = ? WHERE id = ?').bind(state, inv.id).run();
      await age(inv.id, 6);
      ids.push(inv.id);
    }
    await tick();
    for (const id of ids) expect(await reminderRows(id)).toBe(0);
  });

  it('the organization settings form offers the reminder setting the README says it does', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Settings Reminder Co');
    const page = await new Browser().signInAs(owner.token).get(`/orgs/${org.slug}/settings/team`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="reminder_days_before_expiry"');
  });
});

describe('review (issue 21): asking again', () => {
  it('a resent-away link is 410 (as the README and §3 say), not a 409 that tells its holder what became of the invitation', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Resent Away Co');
    const email = uniqueEmail('away');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const old = await lastToken(email);
    await setLastSentAt(inv.id, Date.now() - 120_000);
    const resent = await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, {
      token: owner.token,
    });
    expect(resent.status).toBe(200);
    // The new link is accepted (or the invitation is revoked): the old link has been dead since the resend.
    const fresh = await lastToken(email);
    expect(fresh).not.toBe(old);
    expect((await call('POST', '/v1/invitations/accept', { body: { token: fresh, name: 'New Person' } })).status).toBe(
      200,
    );
    const asked = await call('POST', '/v1/invitations/reinvite-request', { body: { token: old } });
    expect(asked.status).toBe(410);
    expect(asked.json.code).toBe('invitation_invalid');
  });
});
