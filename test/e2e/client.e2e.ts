import { describe, it } from 'vitest';
import { createInvitationsClient, isProblem } from '../../clients/typescript/src/index';
import { address } from './browser';
import { ORIGIN, emailedLink, sql } from './server';

/** The typed client (`clients/typescript`) driving a whole lifecycle against `wrangler dev`. */
describe('@8bit-ai/invitations-client against wrangler dev', () => {
  it('sign in, organization, invite, list, resend, revoke, preview, accept; errors come back typed with their code', async ({
    expect,
  }) => {
    const api = createInvitationsClient({ baseUrl: ORIGIN });
    const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

    // Sign in (the account is created on first use).
    const email = address('client-owner');
    const since = Date.now() - 1000;
    const sent = await api.POST('/v1/auth/email-link', { body: { email } });
    expect(sent.response.status).toBe(202);
    const verified = await api.POST('/v1/auth/verify', {
      body: { token: tokenOf(await emailedLink(email, 'auth/verify', since)), name: 'Client Owner' },
    });
    expect(verified.error).toBeUndefined();
    const owner = api.withToken(verified.data!.session_token);

    // An organization, and two invitations.
    const org = (await owner.POST('/v1/organizations', { body: { name: `Client Co ${Date.now().toString(36)}` } }))
      .data!;
    expect(org.role).toBe('owner');
    const inviteeEmail = address('client-invitee');
    const created = await owner.POST('/v1/organizations/{org}/invitations', {
      params: { path: { org: org.slug } },
      body: { email: inviteeEmail, role: 'developer' },
    });
    expect(created.data).toMatchObject({
      email: inviteeEmail,
      role: 'developer',
      status: 'pending',
      email_delivery: 'queued',
    });
    const inv = created.data!;
    const firstLink = await emailedLink(inviteeEmail, 'invitations/accept', since);
    const other = (
      await owner.POST('/v1/organizations/{org}/invitations', {
        params: { path: { org: org.id } },
        body: { email: address('client-other'), role: 'viewer' },
      })
    ).data!;

    // A refusal is a typed problem with its code.
    const again = await owner.POST('/v1/organizations/{org}/invitations', {
      params: { path: { org: org.id } },
      body: { email: inviteeEmail, role: 'developer' },
    });
    expect(again.data).toBeUndefined();
    expect(isProblem(again.error)).toBe(true);
    expect(again.error!.code).toBe('invitation_already_pending');
    expect(again.response.status).toBe(409);

    // List, resend (past the 60 s cooldown, moved in the database), revoke.
    const list = await owner.GET('/v1/organizations/{org}/invitations', {
      params: { path: { org: org.id }, query: { status: 'pending', limit: '10' } },
    });
    expect(list.data!.data.map((i) => i.id).sort()).toEqual([inv.id, other.id].sort());
    const early = await owner.POST('/v1/organizations/{org}/invitations/{id}/resend', {
      params: { path: { org: org.id, id: inv.id } },
    });
    expect(early.error!.code).toBe('resend_cooldown');
    sql(`UPDATE invitations SET last_sent_at = last_sent_at - 120000 WHERE id = '${inv.id}'`);
    const resendSince = Date.now() - 1000;
    const resent = await owner.POST('/v1/organizations/{org}/invitations/{id}/resend', {
      params: { path: { org: org.id, id: inv.id } },
      body: { expires_in_days: 14 },
    });
    expect(resent.data).toMatchObject({ id: inv.id, send_count: 2, expires_in_days: 14 });
    const revoked = await owner.POST('/v1/organizations/{org}/invitations/{id}/revoke', {
      params: { path: { org: org.id, id: other.id } },
    });
    expect(revoked.data!.status).toBe('revoked');
    expect(
      (
        await owner.POST('/v1/organizations/{org}/invitations/{id}/revoke', {
          params: { path: { org: org.id, id: other.id } },
        })
      ).error!.code,
    ).toBe('invalid_state');

    // Preview and accept with the resent link, anonymously, creating the account.
    const link = tokenOf(await emailedLink(inviteeEmail, 'invitations/accept', resendSince, firstLink));
    // The first link died with the resend.
    expect(
      (await api.GET('/v1/invitations/preview', { params: { query: { token: tokenOf(firstLink) } } })).error!.code,
    ).toBe('invitation_invalid');
    const preview = await api.GET('/v1/invitations/preview', { params: { query: { token: link } } });
    expect(preview.data).toMatchObject({
      email: inviteeEmail,
      role: 'developer',
      account_exists: false,
      organization: { name: org.name },
    });
    const accepted = await api.POST('/v1/invitations/accept', { body: { token: link, name: 'Client Invitee' } });
    expect(accepted.data).toMatchObject({
      role: 'developer',
      organization: { id: org.id },
      user: { email: inviteeEmail },
    });
    expect(accepted.data!.session_token).toMatch(/^8b_ses_/);
    const reused = await api.POST('/v1/invitations/accept', { body: { token: link, name: 'Client Invitee' } });
    expect(reused.error!.code).toBe('invitation_invalid');

    // The new member sees the organization.
    const me = await api.withToken(accepted.data!.session_token!).GET('/v1/me');
    expect(me.data!.organizations.map((o) => o.id)).toContain(org.id);
  });
});
