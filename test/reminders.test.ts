import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { dueReminderOrganizations, dueReminderOrganizationsSql } from '../src/cron';
import worker from '../src/index';
import { coordinatorFor } from '../src/lib/coordinator';
import { DAY_MS } from '../src/lib/time';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { RATE_PREFIX } from '../src/rate-limit/email-quota';
import { call, drainOutbox, invite, lastToken, mailsTo, ownerWithOrg, setLastSentAt, uniqueEmail } from './helpers';

/*
 * SPEC §17, reminders: the cron sends one reminder per sending of an invitation, the organization's
 * `reminder_days_before_expiry` days before it expires, through the outbox, with the current link.
 * Time is moved in the database (the sending made days earlier), and the cron is fired.
 */

const HOUR = LIMITS.invitationEmailsPerOrg.windowMs;

/** Fires the scheduled handler at `now`, and waits for everything it started. */
async function tick(now = Date.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: now, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Moves an invitation's sending `days` into the past: sent earlier, expiring earlier. */
async function age(id: string, days: number) {
  await env.DB.prepare(
    'UPDATE invitations SET expires_at = expires_at - ?1, last_sent_at = last_sent_at - ?1, created_at = created_at - ?1, remind_at = remind_at - ?1 WHERE id = ?2',
  )
    .bind(days * DAY_MS, id)
    .run();
}

interface Row {
  token_id: string | null;
  expires_at: number;
  last_sent_at: number;
  reminded_at: number | null;
}
const row = (id: string) =>
  env.DB.prepare('SELECT token_id, expires_at, last_sent_at, reminded_at FROM invitations WHERE id = ?')
    .bind(id)
    .first<Row>() as Promise<Row>;

/** The reminder emails queued for invitation `id`, oldest first: the jti each carries. */
const reminders = async (id: string) =>
  (
    await env.DB.prepare(
      "SELECT token_id FROM outbox WHERE kind = 'invitation_reminder_email' AND subject_id = ? ORDER BY created_at",
    )
      .bind(id)
      .all<{ token_id: string }>()
  ).results.map((r) => r.token_id);

/** An invitation (7 days) of a new organization (reminders 2 days before expiry, the default). */
async function invited(name: string, body: Record<string, unknown> = {}) {
  const { owner, org } = await ownerWithOrg(name);
  const email = uniqueEmail('remind');
  const inv = (await invite(owner.token, org.id, { email, role: 'viewer', ...body })).json;
  return { owner, org, email, inv };
}

describe('SPEC §17: reminders before expiry', () => {
  it('one reminder per sending, two days before expiry, with the current link (no new link, no new expiry)', async ({
    expect,
  }) => {
    const { owner, org, inv, email } = await invited('Remind Co');
    // Six days early: not yet.
    await tick();
    expect(await reminders(inv.id)).toEqual([]);
    await age(inv.id, 6);
    const before = await row(inv.id);
    await Promise.all([tick(), tick()]);
    await tick();
    // Exactly one, whatever the ticks, carrying the invitation's current jti.
    expect(await reminders(inv.id)).toEqual([before.token_id]);
    const after = await row(inv.id);
    expect(after.reminded_at).not.toBeNull();
    expect([after.token_id, after.expires_at, after.last_sent_at]).toEqual([
      before.token_id,
      before.expires_at,
      before.last_sent_at,
    ]);
    const resource = (await call('GET', `/v1/organizations/${org.id}/invitations/${inv.id}`, { token: owner.token }))
      .json;
    expect(Date.parse(resource.reminded_at)).toBe(after.reminded_at);
    const log = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    const entries = log.json.data.filter((e: { action: string }) => e.action === 'invitation.reminded');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: { type: 'system', user_id: null }, target: { id: inv.id } });

    // The reminder email reaches the invitee with the current link, which accepts.
    await drainOutbox();
    expect(mailsTo(email)).toHaveLength(2);
    const link = await lastToken(email);
    expect(decodeJwt(link).jti).toBe(after.token_id);
    const joined = await call('POST', '/v1/invitations/accept', { body: { token: link, name: 'Rita Reminded' } });
    expect(joined.status).toBe(200);
  });

  it('never after a decline, a revoke, an accept or the expiry', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('No Remind Co');
    const ids: Record<string, string> = {};
    for (const end of ['declined', 'revoked', 'accepted', 'expired']) {
      const email = uniqueEmail(end);
      const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
      ids[end] = inv.id;
      const token = await lastToken(email);
      if (end === 'declined') await call('POST', '/v1/invitations/decline', { body: { token } });
      if (end === 'revoked')
        await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`, { token: owner.token });
      if (end === 'accepted') await call('POST', '/v1/invitations/accept', { body: { token, name: 'Al' } });
      await age(inv.id, end === 'expired' ? 7.5 : 6);
    }
    await tick();
    for (const [end, id] of Object.entries(ids)) expect(await reminders(id), end).toEqual([]);
  });

  it('none for an invitation whose whole life is shorter than the horizon, and none when the organization says null', async ({
    expect,
  }) => {
    // One day to live, a two-day horizon: inside it from the start, and still never reminded.
    const short = await invited('Short Life Co', { expires_in_days: 1 });
    await tick();
    await age(short.inv.id, 0.5);
    await tick();
    expect(await reminders(short.inv.id)).toEqual([]);

    const quiet = await invited('Quiet Co');
    const off = await call('PATCH', `/v1/organizations/${quiet.org.id}`, {
      token: quiet.owner.token,
      body: { reminder_days_before_expiry: null },
    });
    expect(off.json.reminder_days_before_expiry).toBeNull();
    await age(quiet.inv.id, 6.5);
    await tick();
    expect(await reminders(quiet.inv.id)).toEqual([]);
    expect(await dueReminderOrganizations(drizzle(env.DB), Date.now())).not.toContain(quiet.org.id);
    // Turned back on (three days): it is due, and goes out.
    await call('PATCH', `/v1/organizations/${quiet.org.id}`, {
      token: quiet.owner.token,
      body: { reminder_days_before_expiry: 3 },
    });
    await tick();
    expect(await reminders(quiet.inv.id)).toHaveLength(1);
  });

  it('a resend re-arms it: one more reminder for the new sending, with its new link', async ({ expect }) => {
    const { owner, org, inv } = await invited('Re-arm Co');
    await age(inv.id, 6);
    await tick();
    const first = await reminders(inv.id);
    expect(first).toHaveLength(1);
    await setLastSentAt(inv.id, Date.now() - 120_000);
    const resent = await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, {
      token: owner.token,
    });
    expect(resent.status).toBe(200);
    expect(resent.json.reminded_at).toBeNull();
    await tick();
    expect(await reminders(inv.id)).toEqual(first);
    await age(inv.id, 6);
    await tick();
    const both = await reminders(inv.id);
    expect(both).toHaveLength(2);
    expect(both[1]).toBe((await row(inv.id)).token_id);
    expect(both[1]).not.toBe(both[0]);
  });

  it("at the organization's hourly email limit it waits, and goes out in the next window", async ({ expect }) => {
    const { inv, org } = await invited('Full Window Co');
    // A tick two hours ahead, in a window already full (as if 50 emails went out in it).
    const later = Date.now() + 2 * HOUR;
    const window = later - (later % HOUR);
    await runInDurableObject(coordinatorFor(env, org.id), (_i, state) =>
      state.storage.put(`${RATE_PREFIX}${window}`, LIMITS.invitationEmailsPerOrg.max),
    );
    // The sending moved into the past (its reminder due 2 days before the moved expiry).
    await env.DB.prepare('UPDATE invitations SET expires_at = ?1, last_sent_at = ?2, remind_at = ?1 - ?4 WHERE id = ?3')
      .bind(later + DAY_MS, later - 6 * DAY_MS, inv.id, 2 * DAY_MS)
      .run();
    await tick(later);
    expect(await reminders(inv.id)).toEqual([]);
    expect((await row(inv.id)).reminded_at).toBeNull();
    // Still due: not lost. The next window has room.
    expect(await dueReminderOrganizations(drizzle(env.DB), later + HOUR)).toContain(org.id);
    await tick(later + HOUR);
    expect(await reminders(inv.id)).toHaveLength(1);
    expect((await row(inv.id)).reminded_at).toBe(later + HOUR);
  });

  it('finds the organizations with reminders due through the reminder index, in one bounded query', async ({
    expect,
  }) => {
    const plan = await drizzle(env.DB).all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN ${dueReminderOrganizationsSql(Date.now())}`,
    );
    const details = plan.map((p) => p.detail).join('\n');
    expect(details).toMatch(/SEARCH i USING INDEX invitations_reminder_due_idx \(status=\? AND remind_at<\?\)/);
  });
});
