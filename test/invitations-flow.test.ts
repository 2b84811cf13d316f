import { describe, it } from 'vitest';
import { call, invite, lastToken, mailsTo, ownerWithOrg, uniqueEmail } from './helpers';

describe('invitation happy path', () => {
  it('creates, emails, previews and accepts as a new account', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('new');
    const created = await invite(owner.token, org.slug, { email, role: 'developer', message: 'Welcome!' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ email, role: 'developer', status: 'pending', send_count: 1 });
    // The email goes out in the background; once sent, the invitation says so.
    const after = await call('GET', `/v1/organizations/${org.slug}/invitations/${created.json.id}`, {
      token: owner.token,
    });
    expect(after.json.email_delivery).toBe('sent');
    expect(mailsTo(email)).toHaveLength(1);

    const token = await lastToken(email);
    const preview = await call('GET', `/v1/invitations/preview?token=${encodeURIComponent(token)}`);
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({
      email,
      role: 'developer',
      account_exists: false,
      organization: { slug: org.slug },
    });

    const accepted = await call('POST', '/v1/invitations/accept', { body: { token, name: 'Nina New' } });
    expect(accepted.status).toBe(200);
    expect(accepted.json.session_token).toMatch(/^8b_ses_/);
    const me = await call('GET', '/v1/me', { token: accepted.json.session_token });
    expect(me.json.organizations).toEqual([{ id: org.id, name: org.name, slug: org.slug, role: 'developer' }]);
  });
});
