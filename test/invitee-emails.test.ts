import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { decodeJwt } from 'jose';
import { describe, it } from 'vitest';
import { runBatch } from '../src/db/batch';
import { newOutboxId, outboxInsert } from '../src/db/outbox';
import type { OutboxKind } from '../src/db/schema';
import { formatDate, roleName, t } from '../src/i18n/messages';
import {
  addMember,
  call,
  drainOutbox,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

/*
 * The three emails of the invitee's side (SPEC §17), through the outbox and the real delivery
 * consumer: each is rendered from the invitation as it is when it leaves, so a row whose news is no
 * longer true is dropped, never sent. Rows are written with `outboxInsert`, as the services write
 * them (the reminder's `token_id` is the invitation's current jti; the inviter's emails carry the
 * inviter's user id).
 */

const db = drizzle(env.DB);

/** Queues one email of `kind` about the invitation `id` and runs the real consumer. Returns its outbox row. */
async function queue(kind: OutboxKind, organizationId: string, id: string, tokenId: string) {
  const outboxId = newOutboxId();
  await runBatch(db, [outboxInsert({ id: outboxId, kind, organizationId, subjectId: id, tokenId }, Date.now())]);
  await drainOutbox();
  return env.DB.prepare('SELECT status, last_error FROM outbox WHERE id = ?')
    .bind(outboxId)
    .first<{ status: string; last_error: string | null }>();
}

const invitation = (id: string) =>
  env.DB.prepare('SELECT token_id, expires_at, invited_by FROM invitations WHERE id = ?')
    .bind(id)
    .first<{ token_id: string; expires_at: number; invited_by: string }>();

const sql = (statement: string, ...args: unknown[]) =>
  env.DB.prepare(statement)
    .bind(...args)
    .run();

const lastMail = async (to: string) => parseMail(mailsTo(to).at(-1)!.raw);

async function invited(locale = 'en', orgName = 'Acme Inc') {
  const { owner, org } = await ownerWithOrg(orgName);
  const email = uniqueEmail('invitee');
  const created = await invite(owner.token, org.id, { email, role: 'developer', locale });
  if (created.status !== 201) throw new Error(created.text);
  return { owner, org, email, id: created.json.id as string };
}

describe('the reminder to the invitee', () => {
  it("is in the invitation's language, says when it expires, and carries the current link (same invitation, jti and expiry)", async ({
    expect,
  }) => {
    const { org, email, id } = await invited('de', 'Größe & Co');
    const sent = decodeJwt(await lastToken(email));
    const inv = (await invitation(id))!;
    const row = await queue('invitation_reminder_email', org.id, id, inv.token_id);
    expect(row?.status).toBe('sent');
    expect(mailsTo(email)).toHaveLength(2);
    const mail = await lastMail(email);
    const date = formatDate('de', inv.expires_at);
    expect(mail.subject).toBe(t('de', 'reminder_email.subject', { org: 'Größe & Co', date }));
    expect(mail.text).toContain(
      t('de', 'reminder_email.intro', {
        inviter: 'Olivia Owner',
        org: 'Größe & Co',
        role: roleName('de', 'developer'),
        date,
      }),
    );
    expect(mail.html).toContain('<html lang="de">');
    expect(mail.html).toContain('Größe &#38; Co');
    // No new link and no new expiry: the reminder's link names what the invitation email's did.
    const reminded = decodeJwt(await lastToken(email));
    expect([reminded.sub, reminded.jti, reminded.exp, reminded.org]).toEqual([sent.sub, sent.jti, sent.exp, sent.org]);
    expect((await call('GET', `/invitations/accept?token=${encodeURIComponent(await lastToken(email))}`)).status).toBe(
      200,
    );
  });

  it('is dropped once the invitation is resent (another jti), revoked, declined, accepted or expired', async ({
    expect,
  }) => {
    const cases: [string, (id: string, owner: { token: string }, orgId: string) => Promise<unknown>][] = [
      [
        'resent',
        async (id, owner, orgId) => {
          await setLastSentAt(id, Date.now() - 120_000);
          const res = await call('POST', `/v1/organizations/${orgId}/invitations/${id}/resend`, { token: owner.token });
          if (res.status !== 200) throw new Error(res.text);
        },
      ],
      [
        'revoked',
        (id, owner, orgId) =>
          call('POST', `/v1/organizations/${orgId}/invitations/${id}/revoke`, { token: owner.token }),
      ],
      [
        'declined',
        (id) =>
          sql(
            `UPDATE invitations SET status = 'declined', declined_at = ?, token_id = NULL WHERE id = ?`,
            Date.now(),
            id,
          ),
      ],
      [
        'accepted',
        (id) =>
          sql(
            `UPDATE invitations SET status = 'accepted', accepted_at = ?, token_id = NULL WHERE id = ?`,
            Date.now(),
            id,
          ),
      ],
      ['expired', (id) => setExpiresAt(id, Date.now() - 1000)],
    ];
    for (const [what, change] of cases) {
      const { owner, org, email, id } = await invited();
      const jti = (await invitation(id))!.token_id;
      await change(id, owner, org.id);
      const before = mailsTo(email).length;
      const row = await queue('invitation_reminder_email', org.id, id, jti);
      expect(row?.status, what).toBe('dropped');
      expect(mailsTo(email), what).toHaveLength(before);
    }
  });
});

describe('the emails to the inviter', () => {
  it("a decline: in the organization's language, names who declined, links to Settings > Team, no token", async ({
    expect,
  }) => {
    const { owner, org, email, id } = await invited('ja', 'Ünïcode <b>Org</b>');
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { default_locale: 'fr' } });
    await sql(
      `UPDATE invitations SET status = 'declined', declined_at = ?, token_id = NULL WHERE id = ?`,
      Date.now(),
      id,
    );
    const row = await queue('invitation_declined_email', org.id, id, owner.user.id);
    expect(row?.status).toBe('sent');
    const mail = await lastMail(owner.email);
    expect(mail.subject).toBe(t('fr', 'declined_email.subject', { email, org: 'Ünïcode <b>Org</b>' }));
    expect(mail.text).toContain(
      t('fr', 'declined_email.intro', { email, org: 'Ünïcode <b>Org</b>', role: roleName('fr', 'developer') }),
    );
    expect(mail.text).toContain(`/orgs/${org.slug}/settings/team`);
    expect(mail.html).toContain('Ünïcode &#60;b&#62;Org&#60;/b&#62;');
    expect(mail.html).not.toContain('<b>Org</b>');
    expect(mail.html).toContain('<html lang="fr">');
    expect(`${mail.text}${mail.html}`).not.toContain('token=');
  });

  it('a decline is dropped when the invitation is not declined, or the inviter is no longer a member', async ({
    expect,
  }) => {
    const pending = await invited();
    expect((await queue('invitation_declined_email', pending.org.id, pending.id, pending.owner.user.id))?.status).toBe(
      'dropped',
    );
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const email = uniqueEmail('invitee');
    const { json } = await invite(admin.token, org.id, { email, role: 'viewer' });
    await sql(
      `UPDATE invitations SET status = 'declined', declined_at = ?, token_id = NULL WHERE id = ?`,
      Date.now(),
      json.id,
    );
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    const before = mailsTo(admin.email).length;
    expect((await queue('invitation_declined_email', org.id, json.id, admin.user.id))?.status).toBe('dropped');
    expect(mailsTo(admin.email)).toHaveLength(before);
  });

  it('a request for a new invitation: names who asks and when it expired, links to Settings > Team', async ({
    expect,
  }) => {
    const { owner, org, email, id } = await invited();
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { default_locale: 'es' } });
    const expiredAt = Date.now() - 60_000;
    await setExpiresAt(id, expiredAt);
    await sql('UPDATE invitations SET reinvite_requested_at = ? WHERE id = ?', Date.now(), id);
    const row = await queue('reinvite_request_email', org.id, id, owner.user.id);
    expect(row?.status).toBe('sent');
    const mail = await lastMail(owner.email);
    expect(mail.subject).toBe(t('es', 'reinvite_email.subject', { email, org: 'Acme Inc' }));
    const date = formatDate('es', expiredAt);
    expect(mail.text).toContain(
      t('es', 'reinvite_email.intro', { email, org: 'Acme Inc', role: roleName('es', 'developer'), date }),
    );
    expect(mail.text).toContain(`/orgs/${org.slug}/settings/team`);
    expect(`${mail.text}${mail.html}`).not.toContain('token=');
  });

  it('a request is dropped once resent (answered), if it was never asked, or when the inviter lost the authority to resend', async ({
    expect,
  }) => {
    // Resent since it was asked: a live invitation, reinvite_requested_at back to NULL.
    const a = await invited();
    await setExpiresAt(a.id, Date.now() - 1000);
    await sql('UPDATE invitations SET reinvite_requested_at = ? WHERE id = ?', Date.now(), a.id);
    await setLastSentAt(a.id, Date.now() - 120_000);
    const resent = await call('POST', `/v1/organizations/${a.org.id}/invitations/${a.id}/resend`, {
      token: a.owner.token,
    });
    expect(resent.status).toBe(200);
    expect((await queue('reinvite_request_email', a.org.id, a.id, a.owner.user.id))?.status).toBe('dropped');
    // Expired, never asked.
    const b = await invited();
    await setExpiresAt(b.id, Date.now() - 1000);
    expect((await queue('reinvite_request_email', b.org.id, b.id, b.owner.user.id))?.status).toBe('dropped');
    // The inviter, an admin, was demoted to developer.
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const { json } = await invite(admin.token, org.id, { email: uniqueEmail('invitee'), role: 'viewer' });
    await setExpiresAt(json.id, Date.now() - 1000);
    await sql('UPDATE invitations SET reinvite_requested_at = ? WHERE id = ?', Date.now(), json.id);
    // (Demoting through the API also revokes the sender's expired invitations, SPEC §18; here the
    // role alone changes, so that the authority check itself is what drops the row.)
    await sql(
      `UPDATE memberships SET role = 'developer' WHERE organization_id = ? AND user_id = ?`,
      org.id,
      admin.user.id,
    );
    const before = mailsTo(admin.email).length;
    expect((await queue('reinvite_request_email', org.id, json.id, admin.user.id))?.status).toBe('dropped');
    expect(mailsTo(admin.email)).toHaveLength(before);
  });
});
