import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import {
  addMember,
  call,
  setLastSentAt,
  signInMailCount,
  createOrg,
  invite,
  lastToken,
  ownerWithOrg,
  signUp,
  uniqueEmail,
} from './helpers';
import { Browser } from './browser-client';

const invStatus = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM invitations WHERE id = ?').bind(id).first<{ status: string }>())!.status;

describe('pages: security headers', () => {
  it('send a strict CSP, nosniff, no framing and no referrer', async ({ expect }) => {
    const res = await new Browser().get('/sign-in');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('set-cookie')).toMatch(/8b_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    expect(res.html).not.toMatch(/<script>|style="/);
  });
});

describe('pages: CSRF', () => {
  it('refuses a cross-origin form post, and one without the token', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Csrf Co');
    const b = new Browser().signInAs(owner.token);
    await b.get(`/orgs/${org.slug}/settings/team`);
    const fields = { email: uniqueEmail(), role: 'viewer', message: '', expires_in_days: '7' };
    const crossOrigin = await b.post(`/orgs/${org.slug}/settings/team/invitations`, fields, {
      Origin: 'https://evil.example',
    });
    expect(crossOrigin.status).toBe(403);
    const noToken = await b.post(`/orgs/${org.slug}/settings/team/invitations`, { ...fields, _csrf: 'x'.repeat(43) });
    expect(noToken.status).toBe(403);
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM invitations WHERE organization_id = ?').bind(org.id).first('n'),
    ).toBe(0);
    const ok = await b.post(`/orgs/${org.slug}/settings/team/invitations`, fields);
    expect(ok.status).toBe(303);
    expect(ok.location).toBe(`/orgs/${org.slug}/settings/team?notice=invited`);
  });
});

describe('pages: SPEC §5 acceptance, the five visitor cases', () => {
  it('invalid link: "Invitation no longer valid", HTTP 410', async ({ expect }) => {
    const res = await new Browser().get('/invitations/accept?token=garbage');
    expect(res.status).toBe(410);
    expect(res.html).toContain('Invitation no longer valid');
  });

  it('a GET without a session (a mail scanner) never consumes the link', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('scanned');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const token = await lastToken(email);
    for (let i = 0; i < 3; i++)
      expect((await new Browser().get(`/invitations/accept?token=${token}`)).status).toBe(200);
    expect(await invStatus(inv.id)).toBe('pending');
  });

  it('signed in as the invited email: accepted at once, 303 into the organization', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const invitee = await signUp(uniqueEmail('direct'));
    const inv = (await invite(owner.token, org.id, { email: invitee.email, role: 'developer' })).json;
    const res = await new Browser()
      .signInAs(invitee.token)
      .get(`/invitations/accept?token=${await lastToken(invitee.email)}`);
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/orgs/${org.slug}`);
    expect(await invStatus(inv.id)).toBe('accepted');
  });

  it('signed in as another email: explains, offers sign out and continue, stays pending', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const other = await signUp(uniqueEmail('other'));
    const email = uniqueEmail('meant');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const token = await lastToken(email);
    const b = new Browser().signInAs(other.token);
    const res = await b.get(`/invitations/accept?token=${token}`);
    expect(res.html).toContain('This invitation is for another email address');
    expect(res.html).toContain('Sign out and continue');
    expect(await invStatus(inv.id)).toBe('pending');
    const out = await b.post('/sign-out', { next: `/invitations/accept?token=${token}` });
    expect(out.status).toBe(303);
    expect(out.location).toBe(`/invitations/accept?token=${token}`);
    expect((await b.get(out.location!)).html).toContain('Create your account');
  });

  it('not signed in, account exists: one button joins and signs in', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Join Co');
    const existing = await signUp(uniqueEmail('exists'), 'Ex Isting');
    await invite(owner.token, org.id, { email: existing.email, role: 'billing' });
    const token = await lastToken(existing.email);
    const b = new Browser();
    const page = await b.get(`/invitations/accept?token=${token}`);
    expect(page.html).toContain(`Join Join Co as ${existing.email}`);
    const joined = await b.post('/invitations/accept', { token });
    expect(joined.status).toBe(303);
    expect(joined.location).toBe(`/orgs/${org.slug}`);
    expect(b.cookies.get('8b_session')).toMatch(/^8b_ses_/);
    expect((await b.get(`/orgs/${org.slug}/settings/team`)).html).toContain('Ex Isting');
  });

  it('not signed in, account exists, link sent over 15 minutes ago: joins, no session, a sign-in link by email', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Old Link Co');
    const existing = await signUp(uniqueEmail('oldlink'), 'Old Link');
    const inv = (await invite(owner.token, org.id, { email: existing.email, role: 'viewer' })).json;
    const token = await lastToken(existing.email);
    await setLastSentAt(inv.id, Date.now() - 16 * 60_000);
    const signInMailsBefore = await signInMailCount(existing.email);
    const b = new Browser();
    expect((await b.get(`/invitations/accept?token=${token}`)).html).toContain('Join Old Link Co');
    const joined = await b.post('/invitations/accept', { token });
    expect(joined.status).toBe(200);
    expect(joined.html).toContain('Check your email to sign in');
    expect(b.cookies.has('8b_session')).toBe(false);
    expect(await invStatus(inv.id)).toBe('accepted');
    expect(await signInMailCount(existing.email)).toBe(signInMailsBefore + 1);
  });

  it('not signed in, no account: the email is read-only, a name creates the account', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('fresh');
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const token = await lastToken(email);
    const b = new Browser();
    const page = await b.get(`/invitations/accept?token=${token}`);
    expect(page.html).toContain('Create your account');
    expect(page.html).toMatch(new RegExp(`<input id="accept-email" type="email" value="${email}" readonly`));
    expect((await b.post('/invitations/accept', { token, name: '' })).status).toBe(400);
    const done = await b.post('/invitations/accept', { token, name: 'Fresh Person', email: 'attacker@evil.example' });
    expect(done.status).toBe(303);
    const me = await call('GET', '/v1/me', { token: b.cookies.get('8b_session') });
    expect(me.json.user).toMatchObject({ email, name: 'Fresh Person' });
  });
});

describe('pages: escaping and roles', () => {
  it('renders user-supplied text as text', async ({ expect }) => {
    const owner = await signUp(uniqueEmail('xss'), '<img src=x onerror=alert(1)>');
    const org = await createOrg(owner.token, '<script>alert("org")</script>');
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer', message: '<script>alert(2)</script>' });
    const res = await new Browser().signInAs(owner.token).get(`/orgs/${org.slug}/settings/team`);
    expect(res.html).not.toContain('<script>alert');
    expect(res.html).not.toContain('<img src=x');
    expect(res.html).toContain('&lt;script&gt;alert(&quot;org&quot;)&lt;/script&gt;');
  });

  it('non-managers see the members read-only, without invite controls; non-members get 404', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Readonly Co');
    const email = uniqueEmail('ro');
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const viewer = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(email), name: 'Vi Ewer' },
    });
    const page = await new Browser().signInAs(viewer.json.session_token).get(`/orgs/${org.slug}/settings/team`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Olivia Owner');
    expect(page.html).not.toContain('Invite Member');
    expect(page.html).not.toContain('<select');
    expect(page.html).not.toContain('pending invitations');
    const outsider = await signUp(uniqueEmail('outsider'));
    expect((await new Browser().signInAs(outsider.token).get(`/orgs/${org.slug}/settings/team`)).status).toBe(404);
    expect((await new Browser().get(`/orgs/${org.slug}/settings/team`)).location).toBe('/sign-in');
  });

  it('the invite form keeps what was typed and explains errors in plain words', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Form Co');
    const b = new Browser().signInAs(owner.token);
    await b.get(`/orgs/${org.slug}/settings/team`);
    const res = await b.post(`/orgs/${org.slug}/settings/team/invitations`, {
      email: 'not-an-email',
      role: 'viewer',
      message: 'Hello there',
      expires_in_days: '45',
    });
    expect(res.status).toBe(400);
    expect(res.html).toContain('Enter a valid email address');
    expect(res.html).toContain('Enter a whole number of days from 1 to 30.');
    expect(res.html).toContain('>not-an-email</textarea>');
    expect(res.html).toContain('>Hello there</textarea>');
    expect(res.html).toContain('value="45"');
  });

  it('a viewer posting Revoke is refused by the coordinator; leaving goes home', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Leave Page Co');
    const target = (await invite(owner.token, org.id, { email: uniqueEmail('t'), role: 'viewer' })).json;
    const email = uniqueEmail('v');
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const viewer = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(email), name: 'Vi' },
    });
    const b = new Browser().signInAs(viewer.json.session_token);
    await b.get(`/orgs/${org.slug}/settings/team`);
    const revoke = await b.post(`/orgs/${org.slug}/settings/team/invitations/${target.id}/revoke`, {});
    expect(revoke.location).toBe(`/orgs/${org.slug}/settings/team?error=forbidden`);
    expect(await invStatus(target.id)).toBe('pending');
    const leave = await b.post(`/orgs/${org.slug}/settings/team/members/${viewer.json.user.id}/remove`, {});
    expect(leave.location).toBe('/');
    expect((await b.get(`/orgs/${org.slug}/settings/team`)).status).toBe(404);
  });
});

describe('pages: the API reference', () => {
  it('/docs has its own CSP (script from this origin only, no eval, no framing) and every page links to it', async ({
    expect,
  }) => {
    const res = await new Browser().get('/docs');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:/);
    expect(res.html).toContain('<script src="/docs/scalar.js"></script>');
    expect(res.html).toContain('data-url="/openapi.json"');
    expect(res.html).not.toMatch(/<script>[^<]/);
    expect((await new Browser().get('/sign-in')).html).toContain('<a href="/docs">API reference</a>');
  });
});

describe('pages: inviting several addresses at once', () => {
  it('sends to each valid address, explains the others in plain words, and keeps only those in the field', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Many At Once');
    const pending = uniqueEmail('already');
    await invite(owner.token, org.id, { email: pending, role: 'viewer' });
    const [a, b] = [uniqueEmail('first'), uniqueEmail('second')];
    const browser = new Browser().signInAs(owner.token);
    await browser.get(`/orgs/${org.slug}/settings/team`);
    const res = await browser.post(`/orgs/${org.slug}/settings/team/invitations`, {
      email: `${a}, ${pending}\n${b} not-an-address`,
      role: 'developer',
      message: '',
      expires_in_days: '7',
    });
    expect(res.status).toBe(200);
    expect(res.html).toContain(`<strong>${a}</strong>: invitation sent.`);
    expect(res.html).toContain(`<strong>${b}</strong>: invitation sent.`);
    expect(res.html).toMatch(
      new RegExp(`<strong>${pending}</strong>: not sent\\. This email already has a pending invitation`),
    );
    expect(res.html).toContain('<strong>not-an-address</strong>: not sent. That is not a valid email address.');
    expect(res.html).toMatch(new RegExp(`<textarea id="invite-email"[^>]*>${pending}\\nnot-an-address</textarea>`));
    const list = await call('GET', `/v1/organizations/${org.id}/invitations?status=pending`, { token: owner.token });
    expect(list.json.data.map((i: { email: string }) => i.email).sort()).toEqual([a, b, pending].sort());
  });
});

describe('pages: organization settings (allowed domains, default language)', () => {
  it('an owner edits them; an admin sees them read-only and cannot post; bad domains are explained, keeping what was typed', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Settings Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const ob = new Browser().signInAs(owner.token);
    await ob.get(`/orgs/${org.slug}/settings/team`);
    const saved = await ob.post(`/orgs/${org.slug}/settings/organization`, {
      domains: 'example.com\n*.corp.example',
      default_locale: 'de',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/orgs/${org.slug}/settings/team?notice=settings_saved`);
    const api = (await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json;
    expect(api).toMatchObject({ allowed_email_domains: ['example.com', '*.corp.example'], default_locale: 'de' });
    const bad = await ob.post(`/orgs/${org.slug}/settings/organization`, {
      domains: 'example.com\nnot a domain',
      default_locale: 'de',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Enter domains like example.com');
    expect(bad.html).toContain('>example.com\nnot a domain</textarea>');
    const ab = new Browser().signInAs(admin.token);
    const seen = await ab.get(`/orgs/${org.slug}/settings/team`);
    expect(seen.html).toContain('<strong>Allowed email domains:</strong> example.com, *.corp.example');
    expect(seen.html).toContain('Deutsch');
    expect(seen.html).not.toContain(`action="/orgs/${org.slug}/settings/organization"`);
    expect(
      (await ab.post(`/orgs/${org.slug}/settings/organization`, { domains: '', default_locale: 'en' })).status,
    ).toBe(403);
    expect(
      (await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.allowed_email_domains,
    ).toEqual(['example.com', '*.corp.example']);
  });
});
