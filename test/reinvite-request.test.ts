import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { AUDIENCE, signToken } from '../src/auth/tokens';
import { runExpirySweep } from '../src/cron';
import {
  addMember,
  call,
  countRows,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §17, asking again: the genuine link of an expired invitation asks its inviter for a new
 * one, once per expiry (a second ask is answered `already: true` and writes nothing). Revoked,
 * declined and accepted invitations offer nothing (410: their link is dead), a still-pending one is 409; a link that is not ours,
 * or no longer the current one, is 410.
 */

const ask = (token: string) => call('POST', '/v1/invitations/reinvite-request', { body: { token } });
const invitation = (org: string, id: string, token: string) =>
  call('GET', `/v1/organizations/${org}/invitations/${id}`, { token });

/** Everything an ask could write: audit events, outbox rows, webhook events, invitations changed. */
const written = async () => ({
  audit: await countRows('audit_events'),
  outbox: await countRows('outbox'),
  webhooks: await countRows('webhook_events'),
  changed: await countRows('invitations', 'reinvite_requested_at IS NOT NULL OR declined_at IS NOT NULL'),
});

async function hookFor(ownerToken: string, org: string) {
  const url = `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/reinvite-${Date.now().toString(36)}`;
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, { token: ownerToken, body: { url } });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
}

/** An invitation that expired a moment ago (its link still genuine), with its link. */
async function expiredInvitation(name: string) {
  const { owner, org } = await ownerWithOrg(name);
  const email = uniqueEmail('late');
  const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
  const token = await lastToken(email);
  await setExpiresAt(inv.id, Date.now() - 1000);
  return { owner, org, email, inv, token };
}

describe('SPEC §17: asking for a new invitation', () => {
  it('the first ask records it, emails the inviter, audits it and is a webhook event; a second writes nothing', async ({
    expect,
  }) => {
    const { owner, org, inv, token, email } = await expiredInvitation('Ask Again Co');
    await hookFor(owner.token, org.id);
    const inviterMails = mailsTo(owner.email).length;
    const first = await ask(token);
    expect(first.status).toBe(200);
    expect(mailsTo(owner.email)).toHaveLength(inviterMails + 1);
    expect(first.json).toEqual({ requested: true, already: false });

    const resource = (await invitation(org.id, inv.id, owner.token)).json;
    expect(resource.status).toBe('expired');
    expect(Date.parse(resource.reinvite_requested_at)).toBeGreaterThan(0);
    expect(
      await countRows(
        'outbox',
        `kind = 'reinvite_request_email' AND subject_id = '${inv.id}' AND token_id = '${owner.user.id}'`,
      ),
    ).toBe(1);
    const log = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    const entries = log.json.data.filter((e: { action: string }) => e.action === 'invitation.reinvite_requested');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ target: { id: inv.id }, data: { email } });
    const { results } = await env.DB.prepare(
      "SELECT body FROM webhook_events WHERE type = 'invitation.reinvite_requested' AND organization_id = ?",
    )
      .bind(org.id)
      .all<{ body: string }>();
    expect(results.map((r) => JSON.parse(r.body).data)).toEqual([resource]);

    const before = await written();
    const second = await ask(token);
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ requested: true, already: true });
    expect(await written()).toEqual(before);
    expect(mailsTo(owner.email)).toHaveLength(inviterMails + 1);
    expect((await invitation(org.id, inv.id, owner.token)).json.reinvite_requested_at).toBe(
      resource.reinvite_requested_at,
    );
  });

  it('works with a link past its own expiry, and once the cron wrote the expiry down', async ({ expect }) => {
    const { owner, org, inv } = await expiredInvitation('Old Link Co');
    const row = await env.DB.prepare('SELECT token_id, expires_at FROM invitations WHERE id = ?')
      .bind(inv.id)
      .first<{ token_id: string; expires_at: number }>();
    // The link as it was emailed: its `exp` is the invitation's expiry, now in the past.
    const token = await signToken(
      env,
      AUDIENCE.invitation,
      { sub: inv.id, jti: row!.token_id, org: org.id, expiresAt: row!.expires_at },
      row!.expires_at - 86_400_000,
    );
    expect((await call('GET', `/v1/invitations/preview?token=${token}`)).status).toBe(410);
    await runExpirySweep(drizzle(env.DB), Date.now());
    expect((await invitation(org.id, inv.id, owner.token)).json.status).toBe('expired');
    const res = await ask(token);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ requested: true, already: false });
    // The same link, another key: not ours.
    const forged = await signToken(
      { TOKEN_SIGNING_KEY: 'another-signing-key-0123456789abcdefghijklmnop' },
      AUDIENCE.invitation,
      { sub: inv.id, jti: row!.token_id, org: org.id, expiresAt: row!.expires_at },
      row!.expires_at - 86_400_000,
    );
    expect((await ask(forged)).status).toBe(410);
  });

  it('a resend re-arms it: the new sending, once expired, may be asked about again', async ({ expect }) => {
    const { owner, org, inv, token, email } = await expiredInvitation('Re-arm Ask Co');
    expect((await ask(token)).json.already).toBe(false);
    await setLastSentAt(inv.id, Date.now() - 120_000);
    const resent = await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, {
      token: owner.token,
    });
    expect(resent.status).toBe(200);
    expect(resent.json.reinvite_requested_at).toBeNull();
    // The old link is no longer the current one.
    const gone = await ask(token);
    expect([gone.status, gone.json.code]).toEqual([410, 'invitation_invalid']);
    const fresh = await lastToken(email);
    await setExpiresAt(inv.id, Date.now() - 1000);
    expect((await ask(fresh)).json).toEqual({ requested: true, already: false });
    expect(await countRows('outbox', `kind = 'reinvite_request_email' AND subject_id = '${inv.id}'`)).toBe(2);
  });

  it('revoked, declined, accepted invitations offer nothing (410, their link is dead), a pending one is 409; a forged link is 410', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Nothing To Ask Co');
    const states: Record<string, string> = {};
    for (const end of ['pending', 'revoked', 'declined', 'accepted'] as const) {
      const email = uniqueEmail(end);
      const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
      const token = await lastToken(email);
      if (end === 'revoked')
        await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`, { token: owner.token });
      if (end === 'declined') await call('POST', '/v1/invitations/decline', { body: { token } });
      if (end === 'accepted') await call('POST', '/v1/invitations/accept', { body: { token, name: 'Al' } });
      // Past its expiry too: what happened to it decides, not the date.
      if (end !== 'pending') await setExpiresAt(inv.id, Date.now() - 1000);
      const before = await written();
      const res = await ask(token);
      expect([res.status, res.json.code], end).toEqual(
        end === 'pending' ? [409, 'invalid_state'] : [410, 'invitation_invalid'],
      );
      states[end] = res.json.detail;
      expect(await written()).toEqual(before);
    }
    expect(states.pending).toMatch(/accept it/);
    for (const token of ['not-a-token', 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
      const res = await ask(token);
      expect([res.status, res.json.code]).toEqual([410, 'invitation_invalid']);
    }
  });

  it('an inviter who lost authority offers nothing: their expired invitation is revoked, and asking is 410', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Lost Authority Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const email = uniqueEmail('orphan');
    const inv = (await invite(admin.token, org.id, { email, role: 'viewer' })).json;
    const token = await lastToken(email);
    await setExpiresAt(inv.id, Date.now() - 1000);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token })).status,
    ).toBe(204);
    expect((await invitation(org.id, inv.id, owner.token)).json.status).toBe('revoked');
    const res = await ask(token);
    expect([res.status, res.json.code]).toEqual([410, 'invitation_invalid']);
    expect(await countRows('outbox', `kind = 'reinvite_request_email' AND subject_id = '${inv.id}'`)).toBe(0);
  });
});

describe('SPEC §17: malformed requests to the new routes', () => {
  it('are 4xx problem+json with a code, and write nothing', async ({ expect }) => {
    const { owner, org, token } = await expiredInvitation('Malformed Co');
    const pending = (await invite(owner.token, org.id, { email: uniqueEmail('ok'), role: 'viewer' })).json;
    const json = { 'Content-Type': 'application/json' };
    const requests: [string, string, Parameters<typeof call>[2]][] = [];
    for (const path of ['/v1/invitations/decline', '/v1/invitations/reinvite-request']) {
      requests.push(
        ['POST', path, {}],
        ['POST', path, { rawBody: '{"token":', headers: json }],
        ['POST', path, { rawBody: `token=${token}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }],
        ['POST', path, { body: {} }],
        ['POST', path, { body: { token: '' } }],
        ['POST', path, { body: { token: 42 } }],
        ['POST', path, { body: { token: 'x'.repeat(4097) } }],
        ['POST', path, { body: { token, extra: true } }],
        ['POST', path, { body: [token] }],
        ['POST', path, { rawBody: JSON.stringify({ token: 'x'.repeat(17_000) }), headers: json }],
      );
    }
    for (const action of ['accept', 'decline']) {
      requests.push(
        ['POST', `/v1/me/invitations/${'i'.repeat(65)}/${action}`, { token: owner.token }],
        ['POST', `/v1/me/invitations/${pending.id}/${action}`, {}],
        ['POST', `/v1/me/invitations/${pending.id}/${action}`, { token: `8b_ses_${'x'.repeat(40)}` }],
        ['GET', `/v1/me/invitations/${pending.id}/${action}`, { token: owner.token }],
      );
    }
    requests.push(['GET', '/v1/me/invitations', { token: 'not-a-credential' }]);
    const before = await written();
    for (const [method, path, opts] of requests) {
      const res = await call(method, path, opts);
      const label = `${method} ${path.slice(0, 40)} ${JSON.stringify(opts).slice(0, 60)}`;
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      expect(res.status, label).toBeLessThan(500);
      expect(res.headers.get('Content-Type'), label).toContain('application/problem+json');
      expect(res.json.code, label).toMatch(/^[a-z_]+$/);
    }
    expect(requests.length).toBeGreaterThanOrEqual(10);
    expect(await written()).toEqual(before);
    expect((await invitation(org.id, pending.id, owner.token)).json.status).toBe('pending');
  });
});
