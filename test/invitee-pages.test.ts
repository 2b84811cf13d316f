import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { AUDIENCE, signToken } from '../src/auth/tokens';
import { formatDate, t } from '../src/i18n/messages';
import { Browser } from './browser-client';
import {
  call,
  createOrg,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  setExpiresAt,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * What the invitee sees (SPEC §17): the acceptance page's Decline (with the link, no account), the
 * expired page's "Ask for a new invitation", "Invitations for you" on the signed-in dashboard and in
 * the account menu, and the marks on Settings > Team. Every form is a POST with the CSRF field.
 */

const row = (id: string) =>
  env.DB.prepare('SELECT status, token_id, expires_at, reinvite_requested_at FROM invitations WHERE id = ?')
    .bind(id)
    .first<{ status: string; token_id: string | null; expires_at: number; reinvite_requested_at: number | null }>();

const subjects = async (to: string) =>
  Promise.all(mailsTo(to).map(async (m) => (await parseMail(m.raw)).subject ?? ''));

/** The page's text, tags dropped and entities of the sentences we look for decoded. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

async function invited(opts: { locale?: string; orgName?: string; email?: string } = {}) {
  const { owner, org } = await ownerWithOrg(opts.orgName ?? 'Acme Inc');
  const email = opts.email ?? uniqueEmail('invitee');
  const created = await invite(owner.token, org.id, { email, role: 'developer', locale: opts.locale ?? 'en' });
  if (created.status !== 201) throw new Error(created.text);
  return { owner, org, email, id: created.json.id as string, token: await lastToken(email) };
}

const acceptPage = (b: Browser, token: string) => b.get(`/invitations/accept?token=${encodeURIComponent(token)}`);

describe('the acceptance page: Decline, with the link and no account', () => {
  it('offers Decline (a POST with the link and the CSRF field); declining shows the confirmation in the invitation language, emails the inviter, and kills the link', async ({
    expect,
  }) => {
    const { owner, email, id, token } = await invited({ locale: 'de', orgName: 'Kaffee GmbH' });
    const b = new Browser();
    const page = await acceptPage(b, token);
    expect(page.status).toBe(200);
    const form = /<form[^>]*action="\/invitations\/decline"[^>]*>([\s\S]*?)<\/form>/.exec(page.html);
    expect(form).not.toBeNull();
    expect(form![0]).toContain(`data-confirm="${t('de', 'page.decline_confirm', { org: 'Kaffee GmbH' })}"`);
    expect(form![1]).toContain(`name="_csrf" value="${b.cookies.get('8b_csrf')}"`);
    expect(form![1]).toContain(`name="token" value="${token}"`);
    expect(form![1]).toContain(t('de', 'page.decline_button'));
    expect(text(page.html)).toContain(t('de', 'page.decline_hint', { inviter: 'Olivia Owner' }));

    const declined = await b.post('/invitations/decline', { token });
    expect(declined.status).toBe(200);
    expect(declined.html).toContain('<html lang="de">');
    expect(text(declined.html)).toContain(t('de', 'page.declined_title'));
    expect(text(declined.html)).toContain(t('de', 'page.declined_body', { org: 'Kaffee GmbH' }));
    expect((await row(id))?.status).toBe('declined');
    expect(await subjects(owner.email)).toContain(t('en', 'declined_email.subject', { email, org: 'Kaffee GmbH' }));

    const after = await acceptPage(new Browser(), token);
    expect(after.status).toBe(410);
    expect(text(after.html)).toContain(t('de', 'page.invalid_title'));
    expect(after.html).not.toContain('/invitations/decline');
    expect(after.html).not.toContain('/invitations/reinvite-request');
    expect((await b.post('/invitations/decline', { token })).status).toBe(410);
  });

  it('is offered to an existing account and beside "sign out and continue"; refused without the CSRF token or from another site', async ({
    expect,
  }) => {
    const invitee = await signUp(uniqueEmail('existing'));
    const { id, token } = await invited({ email: invitee.email });
    const b = new Browser();
    expect((await acceptPage(b, token)).html).toContain('action="/invitations/decline"');
    const stranger = await signUp(uniqueEmail('stranger'));
    expect((await acceptPage(new Browser().signInAs(stranger.token), token)).html).toContain(
      'action="/invitations/decline"',
    );
    expect((await b.post('/invitations/decline', { token, _csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await b.post('/invitations/decline', { token }, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await row(id))?.status).toBe('pending');
  });

  it('a forged link declines nothing (410); of 8 declines of one link at once exactly one wins and the inviter hears once', async ({
    expect,
  }) => {
    const { owner, email, id, token } = await invited();
    const b = new Browser();
    await acceptPage(b, token);
    const forged = await b.post('/invitations/decline', { token: `${token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(410);
    expect((await row(id))?.status).toBe('pending');
    const results = await Promise.all(Array.from({ length: 8 }, () => b.post('/invitations/decline', { token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 410, 410, 410, 410, 410, 410, 410]);
    const about = (await subjects(owner.email)).filter(
      (s) => s === t('en', 'declined_email.subject', { email, org: 'Acme Inc' }),
    );
    expect(about).toHaveLength(1);
  });
});

describe('the expired page: Ask for a new invitation', () => {
  it('a genuine link past its own expiry offers it; asking shows "We asked …" in the invitation language, emails the inviter once, and the page then says it was asked', async ({
    expect,
  }) => {
    const { owner, org, email, id } = await invited({ locale: 'fr', orgName: 'Atelier' });
    // The invitation ran out as it would in life: its stored expiry and its link's `exp` both past.
    const expiresAt = Date.now() - 3_600_000;
    await setExpiresAt(id, expiresAt);
    const inv = (await row(id))!;
    const token = await signToken(
      env,
      AUDIENCE.invitation,
      { sub: id, jti: inv.token_id!, org: org.id, expiresAt },
      expiresAt - 86_400_000,
    );
    const b = new Browser();
    const page = await acceptPage(b, token);
    expect(page.status).toBe(410);
    expect(page.html).toContain('<html lang="fr">');
    expect(text(page.html)).toContain(t('fr', 'page.expired_body'));
    const form = /<form[^>]*action="\/invitations\/reinvite-request"[^>]*>([\s\S]*?)<\/form>/.exec(page.html);
    expect(form).not.toBeNull();
    expect(form![1]).toContain(`name="_csrf" value="${b.cookies.get('8b_csrf')}"`);
    expect(form![1]).toContain(t('fr', 'page.ask_button'));

    expect((await b.post('/invitations/reinvite-request', { token, _csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await row(id))?.reinvite_requested_at).toBeNull();

    const asked = await b.post('/invitations/reinvite-request', { token });
    expect(asked.status).toBe(200);
    expect(text(asked.html)).toContain(t('fr', 'page.asked_title'));
    expect(text(asked.html)).toContain(t('fr', 'page.asked_body', { inviter: 'Olivia Owner', org: 'Atelier', email }));
    expect((await row(id))?.reinvite_requested_at).not.toBeNull();
    const subject = t('en', 'reinvite_email.subject', { email, org: 'Atelier' });
    expect((await subjects(owner.email)).filter((s) => s === subject)).toHaveLength(1);

    // Asking again: the same confirmation, no second email.
    const again = await b.post('/invitations/reinvite-request', { token });
    expect(again.status).toBe(200);
    expect(text(again.html)).toContain(t('fr', 'page.asked_title'));
    expect((await subjects(owner.email)).filter((s) => s === subject)).toHaveLength(1);
    // The page now says when they asked, and offers no second request.
    const later = await acceptPage(new Browser(), token);
    expect(later.status).toBe(410);
    expect(later.html).not.toContain('/invitations/reinvite-request');
    const askedAt = (await row(id))!.reinvite_requested_at!;
    expect(text(later.html)).toContain(
      t('fr', 'page.already_asked_body', { inviter: 'Olivia Owner', email, date: formatDate('fr', askedAt) }),
    );
  });

  it('Settings > Team marks it "asked for a new invitation" next to Resend, until a resend answers it', async ({
    expect,
  }) => {
    const { owner, org, email, id, token } = await invited();
    await setExpiresAt(id, Date.now() - 1000);
    const b = new Browser();
    await acceptPage(b, token);
    expect((await b.post('/invitations/reinvite-request', { token })).status).toBe(200);
    const team = new Browser().signInAs(owner.token);
    const rowHtml = (html: string) => new RegExp(`<tr data-invitation="${email}">[\\s\\S]*?</tr>`).exec(html)![0];
    const marked = rowHtml((await team.get(`/orgs/${org.slug}/settings/team`)).html);
    expect(marked).toContain('Asked for a new invitation');
    expect(marked.indexOf('Asked for a new invitation')).toBeLessThan(marked.indexOf('Resend'));
    await setLastSentAt(id, Date.now() - 120_000);
    expect((await team.post(`/orgs/${org.slug}/settings/team/invitations/${id}/resend`, {})).status).toBe(303);
    expect(rowHtml((await team.get(`/orgs/${org.slug}/settings/team`)).html)).not.toContain(
      'Asked for a new invitation',
    );
  });

  it('revoked, declined and accepted invitations, and an older link of a resent one, offer nothing', async ({
    expect,
  }) => {
    const revoked = await invited();
    await call('POST', `/v1/organizations/${revoked.org.id}/invitations/${revoked.id}/revoke`, {
      token: revoked.owner.token,
    });
    const declined = await invited();
    const decliner = new Browser();
    await acceptPage(decliner, declined.token);
    expect((await decliner.post('/invitations/decline', { token: declined.token })).status).toBe(200);
    const accepted = await invited();
    await call('POST', '/v1/invitations/accept', { body: { token: accepted.token, name: 'Ann' } });
    // Resent, then expired: the first email's link is not the current one.
    const resent = await invited();
    await setLastSentAt(resent.id, Date.now() - 120_000);
    await call('POST', `/v1/organizations/${resent.org.id}/invitations/${resent.id}/resend`, {
      token: resent.owner.token,
    });
    await setExpiresAt(resent.id, Date.now() - 1000);
    for (const [what, c] of Object.entries({ revoked, declined, accepted, resent })) {
      await setExpiresAt(c.id, Date.now() - 1000);
      const b = new Browser();
      const page = await acceptPage(b, c.token);
      expect(page.status, what).toBe(410);
      expect(page.html, what).not.toContain('/invitations/reinvite-request');
      expect((await b.post('/invitations/reinvite-request', { token: c.token })).status, what).toBeGreaterThanOrEqual(
        400,
      );
      expect((await row(c.id))?.reinvite_requested_at, what).toBeNull();
    }
  });
});

describe('the dashboard: Invitations for you', () => {
  it('lists the live invitations to your email after sign-in, with Accept and Decline (CSRF) and a link in the account menu; none, no section, no link', async ({
    expect,
  }) => {
    const me = await signUp(uniqueEmail('me'), 'Mia Me');
    const a = await invited({ email: me.email, orgName: 'Alpha Labs' });
    const beta = await invited({ email: me.email, orgName: 'Beta Works' });
    const b = new Browser().signInAs(me.token);
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(home.html).toContain('Invitations for you');
    for (const x of [a, beta]) {
      for (const act of ['accept', 'decline']) {
        const form = new RegExp(
          `<form[^>]*action="/orgs/${x.org.slug}/invitations/${x.id}/${act}"[^>]*>([\\s\\S]*?)</form>`,
        ).exec(home.html);
        expect(form, act).not.toBeNull();
        expect(form![1]).toContain(`name="_csrf" value="${b.cookies.get('8b_csrf')}"`);
      }
    }
    expect(home.html).toContain('href="/#invitations-for-you"');
    expect(text(home.html)).toContain('2 invitations for you');
    expect(home.html).not.toContain(a.token);

    // Someone with nothing for them: home goes on to their organization, whose page has no such link.
    const other = await signUp(uniqueEmail('other'));
    const org = await createOrg(other.token, 'Quiet Org');
    const quiet = new Browser().signInAs(other.token);
    const res = await quiet.get('/');
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/orgs/${org.slug}/settings/team`);
    const team = await quiet.get(res.location!);
    expect(team.html).not.toContain('invitations-for-you');
    expect(text(team.html)).not.toContain('for you');
  });

  it('Accept lands in the organization as a member; Decline comes home with a notice and tells the inviter', async ({
    expect,
  }) => {
    const me = await signUp(uniqueEmail('me'));
    const one = await invited({ email: me.email, orgName: 'Joinable' });
    const two = await invited({ email: me.email, orgName: 'Not For Me' });
    const b = new Browser().signInAs(me.token);
    await b.get('/');
    const accepted = await b.post(`/orgs/${one.org.slug}/invitations/${one.id}/accept`, {});
    expect(accepted.status).toBe(303);
    expect(accepted.location).toBe(`/orgs/${one.org.slug}/settings/team`);
    expect((await row(one.id))?.status).toBe('accepted');
    const team = await b.get(accepted.location!);
    expect(team.status).toBe(200);
    expect(text(team.html)).toContain('1 invitation for you');

    const declined = await b.post(`/orgs/${two.org.slug}/invitations/${two.id}/decline`, {});
    expect(declined.status).toBe(303);
    expect(declined.location).toBe('/?notice=declined');
    expect((await row(two.id))?.status).toBe('declined');
    expect(await subjects(two.owner.email)).toContain(
      t('en', 'declined_email.subject', { email: me.email, org: 'Not For Me' }),
    );
    const home = await b.get(declined.location!);
    expect(text(home.html)).toContain('Invitation declined.');
    expect(home.html).not.toContain('Invitations for you');
    // The owner's Team page shows the final status.
    const ownerTeam = await new Browser().signInAs(two.owner.token).get(`/orgs/${two.org.slug}/settings/team`);
    expect(ownerTeam.html).toMatch(new RegExp(`data-invitation="${me.email}">[\\s\\S]*?badge declined`));
  });

  it("someone else's invitation is refused as not yours and stays pending; no CSRF token, 403; signed out, to sign-in", async ({
    expect,
  }) => {
    const me = await signUp(uniqueEmail('me'));
    const theirs = await invited();
    const b = new Browser().signInAs(me.token);
    await b.get('/orgs/new');
    const refused = await b.post(`/orgs/${theirs.org.slug}/invitations/${theirs.id}/accept`, {});
    expect(refused.status).toBe(303);
    expect(refused.location).toBe('/?error=invitation_not_found');
    expect(text((await b.get(refused.location!)).html)).toContain('not addressed to you');
    expect((await b.post(`/orgs/${theirs.org.slug}/invitations/${theirs.id}/decline`, {})).location).toBe(
      '/?error=invitation_not_found',
    );
    expect((await row(theirs.id))?.status).toBe('pending');

    const mine = await invited({ email: me.email });
    const noToken = await b.post(`/orgs/${mine.org.slug}/invitations/${mine.id}/accept`, { _csrf: 'x'.repeat(43) });
    expect(noToken.status).toBe(403);
    const signedOut = new Browser();
    await signedOut.get('/sign-in');
    const out = await signedOut.post(`/orgs/${mine.org.slug}/invitations/${mine.id}/decline`, {});
    expect(out.status).toBe(303);
    expect(out.location).toBe('/sign-in');
    expect((await row(mine.id))?.status).toBe('pending');
  });
});
