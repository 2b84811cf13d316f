import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { LOCALES, ROLES } from '../src/db/schema';
import { CATALOGUES, formatDate, localeFromAcceptLanguage, roleName, t, type MessageKey } from '../src/i18n/messages';
import { call, invite, lastToken, mailsTo, ownerWithOrg, parseMail, setExpiresAt, uniqueEmail } from './helpers';

/* SPEC §12: invitations in the invitee's language. */

const monthName = (locale: string, ms: number) =>
  new Intl.DateTimeFormat(locale, { month: 'long', timeZone: 'UTC' }).format(new Date(ms));

describe('the message catalogues', () => {
  it('every locale has every key, no empty message, the same placeholders as English; and every key is used', ({
    expect,
  }) => {
    const keys = Object.keys(CATALOGUES.en).sort();
    for (const locale of LOCALES) {
      expect(Object.keys(CATALOGUES[locale]).sort(), locale).toEqual(keys);
      for (const key of keys as MessageKey[]) {
        const text = CATALOGUES[locale][key];
        expect(text.trim().length, `${locale} ${key}`).toBeGreaterThan(0);
        const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect(holes(text), `${locale} ${key}`).toEqual(holes(CATALOGUES.en[key]));
      }
    }
    // Role names are looked up by role (`roleName`), one key per role; every other key by name.
    const used = (k: string) =>
      k.startsWith('role.')
        ? (ROLES as readonly string[]).includes(k.slice(5))
        : env.TEST_SOURCE.includes(`'${k}'`) || env.TEST_SOURCE.includes(`"${k}"`);
    expect(ROLES.map((r) => `role.${r}`).every((k) => keys.includes(k))).toBe(true);
    const unused = keys.filter((k) => !used(k));
    expect(unused).toEqual([]);
  });

  it('Accept-Language picks the best translation (q-values; language fallbacks), else English', ({ expect }) => {
    expect(localeFromAcceptLanguage('de-AT,de;q=0.9,en;q=0.5')).toBe('de');
    expect(localeFromAcceptLanguage('pt-PT')).toBe('pt-BR');
    expect(localeFromAcceptLanguage('en;q=0.4, ja;q=0.8')).toBe('ja');
    expect(localeFromAcceptLanguage('nl, it')).toBe('en');
    expect(localeFromAcceptLanguage(undefined)).toBe('en');
    expect(localeFromAcceptLanguage('fr-CA;q=0, es')).toBe('es');
  });
});

describe('invitations in the invitee language', () => {
  it('the email of each locale: translated subject (RFC 2047, parsed back), body, role, and a date in that locale', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Ünïcode Größe');
    for (const locale of LOCALES) {
      const email = uniqueEmail(`mail-${locale}`);
      const created = await invite(owner.token, org.id, { email, role: 'developer', locale });
      expect(created.status).toBe(201);
      expect(created.json.locale).toBe(locale);
      const raw = mailsTo(email).at(-1)!.raw;
      const header = raw.slice(0, raw.search(/\r?\n\r?\n/));
      expect(header, locale).toMatch(/^Subject: =\?utf-8\?B\?/m);
      const mail = await parseMail(raw);
      expect(mail.subject, locale).toBe(t(locale, 'email.subject', { inviter: 'Olivia Owner', org: 'Ünïcode Größe' }));
      const expiresAt = Date.parse(created.json.expires_at);
      expect(mail.text, locale).toContain(t(locale, 'email.expires', { date: formatDate(locale, expiresAt) }));
      expect(mail.text, locale).toContain(monthName(locale, expiresAt));
      if (locale !== 'en') expect(mail.text, locale).not.toContain(monthName('en', expiresAt));
      expect(mail.text, locale).toContain(roleName(locale, 'developer'));
      expect(mail.html, locale).toContain(`<html lang="${locale}">`);
    }
  });

  it('the acceptance page speaks the invitation language, including the expired page; an unusable link follows Accept-Language', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Sprachen');
    for (const locale of LOCALES) {
      const email = uniqueEmail(`page-${locale}`);
      const { json } = await invite(owner.token, org.id, { email, role: 'viewer', locale });
      const token = await lastToken(email);
      const page = await call('GET', `/invitations/accept?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.text, locale).toContain(`<html lang="${locale}">`);
      expect(page.text, locale).toContain(t(locale, 'page.create_title'));
      expect(page.text, locale).toContain(formatDate(locale, Date.parse(json.expires_at)).replace(/&/g, '&amp;'));
      await setExpiresAt(json.id, Date.now() - 1000);
      const expired = await call('GET', `/invitations/accept?token=${token}`);
      expect(expired.status).toBe(410);
      expect(expired.text, locale).toContain(t(locale, 'page.expired_body'));
    }
    const unknown = await call('GET', '/invitations/accept?token=not-a-token', {
      headers: { 'Accept-Language': 'ja,en;q=0.5' },
    });
    expect(unknown.status).toBe(410);
    expect(unknown.text).toContain(t('ja', 'page.invalid_title'));
  });

  it("the organization's default locale applies when none is given; resend can change it; an unknown locale is 400", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { default_locale: 'fr' } })).json
        .default_locale,
    ).toBe('fr');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail('default'), role: 'viewer' })).json;
    expect(inv.locale).toBe('fr');
    await env.DB.prepare('UPDATE invitations SET last_sent_at = last_sent_at - 120000 WHERE id = ?').bind(inv.id).run();
    const resent = await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, {
      token: owner.token,
      body: { locale: 'es' },
    });
    expect(resent.json.locale).toBe('es');
    expect((await parseMail(mailsTo(inv.email).at(-1)!.raw)).subject).toContain('te ha invitado');
    for (const locale of ['xx', 'pt', 'EN', 'de-DE']) {
      const res = await invite(owner.token, org.id, { email: uniqueEmail('bad'), role: 'viewer', locale });
      expect(res.status, locale).toBe(400);
    }
  });
});
