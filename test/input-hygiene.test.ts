import { env, exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { buildMime } from '../src/email/mime';
import { invitationMail } from '../src/email/templates';
import { BASE, call, countRows, invite, lastToken, mailsTo, ownerWithOrg, parseMail, uniqueEmail } from './helpers';
import { row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: name lengths, mail header lengths and query-string lookups.
 */

describe('§14 input hygiene', () => {
  it('names are at most 100 characters on every form and in the API; nothing is created by a refused one', async ({
    expect,
  }) => {
    const long = 'N'.repeat(101);
    const email = uniqueEmail('longname');
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const token = await lastToken(email, 'sign-in');
    expect((await call('POST', '/v1/auth/verify', { body: { token, name: long } })).status).toBe(400);
    // The page form, the way the reviewer sent it (10,000 characters, within the 16 KB form limit).
    const csrf = 'c'.repeat(43);
    const page = await exports.default.fetch(
      new Request(`${BASE}/auth/verify`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `8b_csrf=${csrf}`, Origin: BASE },
        body: new URLSearchParams({ _csrf: csrf, token, name: 'N'.repeat(10_000) }),
      }),
    );
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('at most 100 characters');
    expect(await countRows('users', `email = '${email}'`)).toBe(0);
    // The link was not used up by the refusal.
    expect((await call('POST', '/v1/auth/verify', { body: { token, name: 'N'.repeat(100) } })).status).toBe(200);
  });

  it('the acceptance page and the new-organization form refuse a name over 100 characters, creating nothing', async ({
    expect,
  }) => {
    const csrf = 'e'.repeat(43);
    const post = (path: string, fields: Record<string, string>, cookie = '') =>
      exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Cookie: `8b_csrf=${csrf}${cookie}`,
            Origin: BASE,
          },
          body: new URLSearchParams({ _csrf: csrf, ...fields }),
        }),
      );
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('longaccept');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const accept = await post('/invitations/accept', { token: await lastToken(email), name: 'A'.repeat(101) });
    expect(accept.status).toBe(400);
    expect(await accept.text()).toContain('at most 100 characters');
    expect(await countRows('users', `email = '${email}'`)).toBe(0);
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', inv.id))!.status).toBe(
      'pending',
    );

    const orgsBefore = await countRows('memberships', `user_id = '${owner.user.id}'`);
    const created = await post('/orgs/new', { name: 'O'.repeat(101) }, `; 8b_session=${owner.token}`);
    expect(created.status).toBe(400);
    expect(await countRows('memberships', `user_id = '${owner.user.id}'`)).toBe(orgsBefore);
  });

  it('an invitation subject stays short, folded, and every header line is within 998 characters, whatever the names', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    // A name stored before the limit existed.
    await env.DB.prepare('UPDATE users SET name = ? WHERE id = ?').bind('Ünïcode '.repeat(2400), owner.user.id).run();
    const email = uniqueEmail('subject');
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).status).toBe(201);
    const raw = mailsTo(email).at(-1)!.raw;
    const header = raw.slice(0, raw.search(/\r?\n\r?\n/));
    for (const line of header.split(/\r?\n/)) expect(line.length).toBeLessThanOrEqual(998);
    expect(header).toMatch(/^Subject: =\?utf-8\?B\?[^\r\n]*\r?\n =\?utf-8\?B\?/m);
    const subject = (await parseMail(raw)).subject!;
    expect(subject.length).toBeLessThan(260);
    expect(subject).toMatch(/^Ünïcode Ünïcode .*… invited you to join Acme Inc on 8bit-ai$/);
  });

  it('subject folding never splits a character, and decodes to the subject', async ({ expect }) => {
    const mail = invitationMail({
      to: 'a@example.com',
      inviterName: '日本語の名前'.repeat(30),
      organizationName: 'Ωmega 🚀'.repeat(20),
      role: 'viewer',
      message: null,
      link: 'https://x/accept?token=t',
      expiresAt: 0,
    });
    const raw = buildMime({ ...mail, from: 'invitations@example.com', fromName: '8bit-ai', headers: {} });
    expect((await parseMail(raw)).subject).toBe(mail.subject);
  });

  it('lookups keyed by a query string use own keys only (`__proto__`, `constructor`)', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    for (const q of [
      'notice=__proto__',
      'notice=constructor',
      'error=constructor',
      'error=__proto__',
      'error=toString',
    ]) {
      const res = await call('GET', `/orgs/${org.slug}/settings/team?${q}`, {
        headers: { Cookie: `8b_session=${owner.token}` },
      });
      expect(res.status, q).toBe(200);
      expect(res.text, q).not.toMatch(/class="alert/);
    }
  });
});
