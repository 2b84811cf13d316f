import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import {
  call,
  countRows,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §17, decline: with the link (no account needed) the invitation becomes `declined`, a final
 * status. The link dies at once, the pending slot and the seat free at once, it cannot be resent,
 * a new invitation to the same email is allowed, and the inviter hears of it.
 */

const decline = (token: string, opts: { session?: string } = {}) =>
  call('POST', '/v1/invitations/decline', { body: { token }, token: opts.session });
const accept = (token: string, name = 'Ada') => call('POST', '/v1/invitations/accept', { body: { token, name } });
const invitation = (org: string, id: string, token: string) =>
  call('GET', `/v1/organizations/${org}/invitations/${id}`, { token });

async function hookFor(ownerToken: string, org: string) {
  const url = `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/decline-${Date.now().toString(36)}`;
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, { token: ownerToken, body: { url } });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
}

/** The `data` of the one webhook event of `type` about invitation `id`. */
async function eventData(type: string, id: string) {
  const { results } = await env.DB.prepare(
    "SELECT body FROM webhook_events WHERE type = ? AND json_extract(body, '$.data.id') = ?",
  )
    .bind(type, id)
    .all<{ body: string }>();
  return results.map((r) => JSON.parse(r.body).data);
}

describe('SPEC §17: declining with the link', () => {
  it('kills the link at once, frees the pending slot, refuses a resend, allows a new invitation, and tells the inviter', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Decline Co');
    await hookFor(owner.token, org.id);
    const email = uniqueEmail('decliner');
    const inv = (await invite(owner.token, org.id, { email, role: 'developer' })).json;
    const token = await lastToken(email);
    const pending = async () =>
      (await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.pending_invitations;
    expect(await pending()).toBe(1);

    const inviterMails = mailsTo(owner.email).length;
    const res = await decline(token);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ declined: true });
    // The inviter is emailed (once, whatever follows).
    expect(mailsTo(owner.email)).toHaveLength(inviterMails + 1);

    // The link is dead at once, everywhere.
    expect((await call('GET', `/v1/invitations/preview?token=${token}`)).status).toBe(410);
    const late = await accept(token);
    expect(late.status).toBe(410);
    expect(late.json.code).toBe('invitation_invalid');
    const twice = await decline(token);
    expect(twice.status).toBe(410);
    expect(twice.json.code).toBe('invitation_invalid');
    expect(await pending()).toBe(0);

    const after = (await invitation(org.id, inv.id, owner.token)).json;
    expect(after.status).toBe('declined');
    expect(Date.parse(after.declined_at)).toBeGreaterThan(0);
    const declinedList = await call('GET', `/v1/organizations/${org.id}/invitations?status=declined`, {
      token: owner.token,
    });
    expect(declinedList.json.data.map((i: { id: string }) => i.id)).toEqual([inv.id]);

    await setLastSentAt(inv.id, Date.now() - 120_000);
    const resend = await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, {
      token: owner.token,
    });
    expect(resend.status).toBe(409);
    expect(resend.json.code).toBe('invalid_state');
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).status).toBe(201);

    // The inviter's email: one outbox row, to the inviter (token_id: their user id), never a token.
    const { results: rows } = await env.DB.prepare(
      "SELECT token_id FROM outbox WHERE kind = 'invitation_declined_email' AND subject_id = ?",
    )
      .bind(inv.id)
      .all<{ token_id: string }>();
    expect(rows).toEqual([{ token_id: owner.user.id }]);

    // One audit entry, anonymous with the client's network; the webhook carries the API's resource.
    const log = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    const entries = log.json.data.filter((e: { action: string }) => e.action === 'invitation.declined');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ target: { type: 'invitation', id: inv.id }, data: { email } });
    expect(entries[0].actor.user_id).toBeNull();
    expect(entries[0].ip).toMatch(/^198\.18\./);
    expect(await eventData('invitation.declined', inv.id)).toEqual([after]);
  });

  it('frees the seat at once: the seat it held goes to the next invitation', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seat Decline Co');
    // Two seats: the owner and one pending invitation.
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 2 } })).status,
    ).toBe(200);
    const first = uniqueEmail('first');
    await invite(owner.token, org.id, { email: first, role: 'viewer' });
    const full = await invite(owner.token, org.id, { email: uniqueEmail('second'), role: 'viewer' });
    expect(full.json.code).toBe('seat_limit');
    expect((await decline(await lastToken(first))).status).toBe(200);
    expect((await invite(owner.token, org.id, { email: uniqueEmail('second'), role: 'viewer' })).status).toBe(201);
  });

  it('a signed-in decliner is named in the audit log', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Named Decline Co');
    const invitee = await signUp(uniqueEmail('named'), 'Nadia Named');
    const inv = (await invite(owner.token, org.id, { email: invitee.email, role: 'viewer' })).json;
    expect((await decline(await lastToken(invitee.email), { session: invitee.token })).status).toBe(200);
    const row = await env.DB.prepare(
      "SELECT actor_type, actor_id FROM audit_events WHERE action = 'invitation.declined' AND target_id = ?",
    )
      .bind(inv.id)
      .first();
    expect(row).toEqual({ actor_type: 'user', actor_id: invitee.user.id });
  });

  it('a decline racing an accept of the same link: exactly one wins, every time', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Race Decline Co');
    for (let round = 0; round < 3; round++) {
      const emails = Array.from({ length: 8 }, () => uniqueEmail(`race${round}`));
      const invs = [];
      for (const email of emails) invs.push((await invite(owner.token, org.id, { email, role: 'viewer' })).json);
      const tokens = await Promise.all(emails.map((e) => lastToken(e)));
      // Half the pairs start with the accept, half with the decline.
      const pairs = await Promise.all(
        tokens.map(async (t, i) => {
          if (i % 2) {
            const [d, a] = await Promise.all([decline(t), accept(t)]);
            return { a, d };
          }
          const [a, d] = await Promise.all([accept(t), decline(t)]);
          return { a, d };
        }),
      );
      for (const [i, { a, d }] of pairs.entries()) {
        expect([a.status, d.status].sort(), `round ${round} pair ${i}`).toEqual([200, 410]);
        const status = (await invitation(org.id, invs[i].id, owner.token)).json.status;
        const member = await countRows(
          'memberships m JOIN users u ON u.id = m.user_id',
          `m.organization_id = '${org.id}' AND u.email = '${emails[i]}'`,
        );
        // The state agrees with the winner: accepted and a member, or declined and none.
        if (a.status === 200) expect([status, member]).toEqual(['accepted', 1]);
        else expect([status, member]).toEqual(['declined', 0]);
      }
      // Free the pending slots for the next round.
      await env.DB.prepare(
        "UPDATE invitations SET status = 'revoked', token_id = NULL WHERE organization_id = ? AND status = 'pending'",
      )
        .bind(org.id)
        .run();
    }
  });

  it('forged, tampered and resent-away links are 410, and change nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Forged Decline Co');
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const old = await lastToken(email);
    await setLastSentAt(inv.id, Date.now() - 120_000);
    await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, { token: owner.token });
    const current = await lastToken(email);
    for (const token of [old, `${current.slice(0, -2)}xx`, 'not-a-token']) {
      const res = await decline(token);
      expect(res.status, token.slice(0, 12)).toBe(410);
      expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    }
    expect((await invitation(org.id, inv.id, owner.token)).json.status).toBe('pending');
    expect(await countRows('audit_events', `action = 'invitation.declined' AND target_id = '${inv.id}'`)).toBe(0);
    expect((await decline(current)).status).toBe(200);
  });
});
