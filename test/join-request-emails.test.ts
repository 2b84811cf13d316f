import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { runBatch } from '../src/db/batch';
import { t } from '../src/i18n/messages';
import { requestStatements } from '../src/joins/join-sql';
import { newId } from '../src/lib/ids';
import {
  addMember,
  call,
  countRows,
  drainOutbox,
  mailsTo,
  ownerWithOrg,
  parseMail,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * The join request emails (SPEC §16), through the outbox and the real delivery consumer: owners and
 * admins hear of a new request once each, the requester hears the decision; each is rendered from
 * the request as it is when it leaves, so a decided request sends no stale news.
 *
 * Requests are filed with `requestStatements` (src/joins/join-sql.ts), the statements every way in
 * that asks for approval runs, with its owner emails.
 */

type Account = Awaited<ReturnType<typeof signUp>>;

async function fileRequest(orgId: string, requester: Account, opts: { drain?: boolean; role?: string } = {}) {
  const id = newId('jrq');
  const ctx = {
    db: drizzle(env.DB),
    organizationId: orgId,
    actor: { userId: requester.user.id, ip: null, userAgent: null },
    now: Date.now(),
  };
  const request = { id, source: 'domain' as const, linkId: null, role: (opts.role ?? 'developer') as 'developer' };
  const [inserted] = await runBatch(
    ctx.db,
    requestStatements(ctx, { id: requester.user.id, email: requester.email }, request, []),
  );
  if (inserted.meta.changes !== 1) throw new Error('request not filed');
  if (opts.drain !== false) await drainOutbox();
  return id;
}

const mails = async (to: string) => Promise.all(mailsTo(to).map((m) => parseMail(m.raw)));
const about = async (to: string, words: string) => (await mails(to)).filter((m) => m.subject?.includes(words));
const base = (org: string) => `/v1/organizations/${org}/join-requests`;

describe('the email to owners and admins about a new request', () => {
  it('reaches each owner and admin once, no developer or viewer; names the requester; links to the Team page', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Mail & Co');
    const coOwner = await addMember(owner.token, org.id, 'owner');
    const admin = await addMember(owner.token, org.id, 'admin');
    const developer = await addMember(owner.token, org.id, 'developer');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const requester = await signUp(uniqueEmail('asker'), 'Ada <b>Asker</b>');
    await fileRequest(org.id, requester, { role: 'viewer' });
    await drainOutbox();
    const subject = t('en', 'join_email.subject', { name: 'Ada <b>Asker</b>', org: 'Mail & Co' });
    for (const to of [owner.email, coOwner.email, admin.email]) {
      const got = (await mails(to)).filter((m) => m.subject === subject);
      expect(got, to).toHaveLength(1);
      const [mail] = got;
      expect(mail.text).toContain(`Ada <b>Asker</b> (${requester.email}) asks to join Mail & Co as Viewer.`);
      expect(mail.text).toContain(`${env.APP_URL}/orgs/${org.slug}/settings/team`);
      expect(mail.html).toMatch(/Ada &(lt|#60);b&(gt|#62);Asker/);
      expect(mail.html).not.toContain('<b>Asker</b>');
      expect(`${mail.text}${mail.html}`).not.toMatch(/token=|8b_ses_|8b_pat_/);
    }
    for (const to of [developer.email, viewer.email, requester.email]) {
      expect(await about(to, 'asks to join'), to).toEqual([]);
    }
    // A second request, a second email each: one per request.
    await fileRequest(org.id, await signUp(uniqueEmail('asker2'), 'Bo Second'));
    expect(await about(owner.email, 'asks to join')).toHaveLength(2);
    expect(await about(admin.email, 'asks to join')).toHaveLength(2);
  });

  it('is dropped when the request was decided before it left, and for a recipient who no longer manages', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Dropped Inc');
    const admin = await addMember(owner.token, org.id, 'admin');
    const requester = await signUp();
    const id = await fileRequest(org.id, requester, { drain: false });
    // Decided before the queue ran (the approval's own POST runs the consumer afterwards).
    expect((await call('POST', `${base(org.id)}/${id}/approve`, { token: admin.token })).status).toBe(200);
    expect(await about(owner.email, 'asks to join')).toEqual([]);
    expect(await about(admin.email, 'asks to join')).toEqual([]);
    expect(
      await countRows('outbox', `subject_id = '${id}' AND kind = 'join_request_email' AND status = 'dropped'`),
    ).toBe(2);
    // The admin, demoted after the request was filed and before its email left, is not told.
    const later = await fileRequest(org.id, await signUp(), { drain: false });
    const demoted = await call('PATCH', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
      token: owner.token,
      body: { role: 'viewer' },
    });
    expect(demoted.status).toBe(200);
    await drainOutbox();
    expect(await about(owner.email, 'asks to join')).toHaveLength(1);
    expect(await about(admin.email, 'asks to join')).toEqual([]);
    expect(
      await countRows('outbox', `subject_id = '${later}' AND kind = 'join_request_email' AND status = 'sent'`),
    ).toBe(1);
  });
});

describe('the decision email to the requester', () => {
  it('approved: says so with the role and a link to the organization; a second decision sends nothing', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Yes Ltd');
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    expect(
      (await call('POST', `${base(org.id)}/${id}/approve`, { token: owner.token, body: { role: 'billing' } })).status,
    ).toBe(200);
    const got = await about(requester.email, 'was approved');
    expect(got).toHaveLength(1);
    expect(got[0].subject).toBe(t('en', 'decision_email.approved_subject', { org: 'Yes Ltd' }));
    expect(got[0].text).toContain('You are now a member, as Billing.');
    expect(got[0].text).toContain(`${env.APP_URL}/orgs/${org.slug}`);
    expect(`${got[0].text}${got[0].html}`).not.toMatch(/token=|8b_ses_|8b_pat_/);
    const count = mailsTo(requester.email).length;
    expect((await call('POST', `${base(org.id)}/${id}/approve`, { token: owner.token })).status).toBe(409);
    expect(
      (await call('POST', `${base(org.id)}/${id}/reject`, { token: owner.token, body: { reason: 'x' } })).status,
    ).toBe(409);
    await drainOutbox();
    expect(mailsTo(requester.email)).toHaveLength(count);
  });

  it('rejected: with the reason when one was given, without it otherwise; a refused approval sends nothing', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('No Ltd');
    const first = await signUp();
    const withReason = await fileRequest(org.id, first);
    const reason = 'We only admit the <platform> team for now.\nAsk Grace.';
    expect(
      (await call('POST', `${base(org.id)}/${withReason}/reject`, { token: owner.token, body: { reason } })).status,
    ).toBe(200);
    const [mail] = await about(first.email, 'was declined');
    expect(mail.subject).toBe(t('en', 'decision_email.rejected_subject', { org: 'No Ltd' }));
    expect(mail.text).toContain('The reason given:');
    expect(mail.text).toContain(reason);
    expect(mail.html).toContain('We only admit the &lt;platform&gt; team for now.');
    const second = await signUp();
    const bare = await fileRequest(org.id, second);
    expect((await call('POST', `${base(org.id)}/${bare}/reject`, { token: owner.token })).status).toBe(200);
    const [plain] = await about(second.email, 'was declined');
    expect(plain.text).not.toContain('The reason given:');
    // Seats full: the approval is refused, and the requester hears nothing yet.
    const third = await signUp();
    const waiting = await fileRequest(org.id, third);
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 1 } });
    expect((await call('POST', `${base(org.id)}/${waiting}/approve`, { token: owner.token })).json.code).toBe(
      'seat_limit',
    );
    expect(await about(third.email, 'request')).toEqual([]);
  });

  it('is written in the organization’s default language', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Sprache GmbH');
    const patched = await call('PATCH', `/v1/organizations/${org.id}`, {
      token: owner.token,
      body: { default_locale: 'de' },
    });
    expect(patched.status).toBe(200);
    const requester = await signUp(uniqueEmail('de'), 'Dora');
    const id = await fileRequest(org.id, requester, { role: 'viewer' });
    const [toOwner] = (await mails(owner.email)).filter((m) => m.subject?.includes('Dora'));
    expect(toOwner.subject).toBe(t('de', 'join_email.subject', { name: 'Dora', org: 'Sprache GmbH' }));
    expect(toOwner.text).toContain('als Betrachter');
    expect(toOwner.html).toContain('<html lang="de">');
    expect((await call('POST', `${base(org.id)}/${id}/approve`, { token: owner.token })).status).toBe(200);
    const [decision] = await mails(requester.email).then((all) => all.filter((m) => m.subject?.includes('Sprache')));
    expect(decision.subject).toBe(t('de', 'decision_email.approved_subject', { org: 'Sprache GmbH' }));
  });
});
