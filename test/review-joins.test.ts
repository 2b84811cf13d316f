import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { afterEach, describe, it, vi } from 'vitest';
import { createInvitationsBulk } from '../src/invitations/bulk.service';
import { resendInvitation } from '../src/invitations/invitations.service';
import {
  call,
  countRows,
  drainOutbox,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  roomyQuota,
  setExpiresAt,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * Independent review of issue 20 (SPEC §16: seats, invite links, verified domains, join requests).
 * Each test states a contract the change under review does not keep; each fails until it is fixed.
 */

afterEach(() => void vi.useRealTimers());

const codeOf = (url: string) => url.slice(url.lastIndexOf('/join/') + '/join/'.length);
const linksOf = (org: string) => `/v1/organizations/${org}/invite-links`;
const redeem = (token: string, code: string) => call('POST', `/v1/join/${code}`, { token });
const statusOf = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM join_requests WHERE id = ?').bind(id).first<{ status: string }>())?.status;

let n = 0;
/** A verified domain of the organization (its DNS check has its own tests), as the concurrency tests seed it. */
async function verifiedDomain(org: string, ownerId: string) {
  const domain = `review-${Date.now().toString(36)}-${++n}.example`;
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO organization_domains (id, organization_id, domain, status, verification_token, verified_at, created_by, created_at, updated_at)
     VALUES (?, ?, ?, 'verified', 'seeded', ?, ?, ?, ?)`,
  )
    .bind(`dom_${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`, org, domain, now, ownerId, now, now)
    .run();
  return domain;
}

describe('join request emails are metered', () => {
  // Finding 1. Every new request emails every owner and admin, and nothing limits how often an
  // account files one: withdraw, ask again, repeat. The organization's hourly email limit (§14),
  // the per-account and per-IP email counters and every rate limit are bypassed.
  it('an account that withdraws and asks again 12 times does not get 12 emails sent to the owner', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Spammed Co');
    const domain = await verifiedDomain(org.id, owner.user.id);
    const set = await call('PATCH', `/v1/organizations/${org.id}`, {
      token: owner.token,
      body: { domain_join: 'request' },
    });
    expect(set.status).toBe(200);
    const asker = await signUp(`asker.${Date.now().toString(36)}@${domain}`, 'Please Read http://phish.example');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const asked = await call('POST', `/v1/organizations/${org.id}/join`, { token: asker.token });
      statuses.push(asked.status);
      if (asked.status !== 202) break;
      const gone = await call('DELETE', `/v1/me/join-requests/${asked.json.join_request.id}`, { token: asker.token });
      expect(gone.status).toBe(204);
    }
    await drainOutbox();
    let joinMails = 0;
    for (const m of mailsTo(owner.email)) if ((await parseMail(m.raw)).text?.includes(asker.email)) joinMails++;
    // Today: 12 × 202 and 12 emails to the owner (and as many to each admin).
    expect(joinMails).toBeLessThan(12);
  });
});

describe('a pending join request once its requester is a member', () => {
  // Finding 2. Commit 7c5e4fd closes a pending request when its account joins through a link or
  // its domain (joinStatements), but not when it accepts an emailed invitation (acceptance has its
  // own batch): Settings > Team then lists a member as asking to join, the request counts against
  // the 100 pending requests, and it stays approvable after the member is removed.
  it('accepting an emailed invitation closes the pending request filed through a link that requires approval', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Stale Request Co');
    const asking = await call('POST', linksOf(org.id), {
      token: owner.token,
      body: { role: 'viewer', requires_approval: true },
    });
    const u = await signUp(uniqueEmail('stale'));
    const asked = await redeem(u.token, codeOf(asking.json.url));
    expect(asked.status).toBe(202);
    expect((await invite(owner.token, org.id, { email: u.email, role: 'developer' })).status).toBe(201);
    const accepted = await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(u.email) } });
    expect(accepted.status).toBe(200);
    const pending = await call('GET', `/v1/organizations/${org.id}/join-requests?status=pending`, {
      token: owner.token,
    });
    expect(pending.status).toBe(200);
    // Today: the member's request is still listed as pending.
    expect(pending.json.data.map((r: { user: { id: string } }) => r.user.id)).not.toContain(u.user.id);
    expect(await statusOf(asked.json.join_request.id)).not.toBe('pending');
  });
});

describe('approving a request of an account that joined at the same moment', () => {
  // Finding 3. The statements after an approval's guarded INSERT are conditioned on "a membership
  // of this account created at `now`" (joinedSql), not on that INSERT having inserted. `now` is
  // the Worker's clock, and two requests can carry the same millisecond: when the requester became
  // a member another way at that same `now` (here: accepting an emailed invitation, which does not
  // close the request), the refused approval (409 already_member) still marks the request approved,
  // writes a member.added (so a second member.added webhook event, after the invitation's) and
  // queues an "approved" email. The clock is pinned to make the same millisecond certain.
  it('409 already_member writes no approval, no member.added, no decision email', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Same Millisecond Co');
    const asking = await call('POST', linksOf(org.id), {
      token: owner.token,
      body: { role: 'viewer', requires_approval: true },
    });
    const u = await signUp(uniqueEmail('samems'));
    const asked = await redeem(u.token, codeOf(asking.json.url));
    expect(asked.status).toBe(202);
    const requestId = asked.json.join_request.id as string;
    expect((await invite(owner.token, org.id, { email: u.email, role: 'developer' })).status).toBe(201);
    const token = await lastToken(u.email);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 1000);
    expect((await call('POST', '/v1/invitations/accept', { body: { token } })).status).toBe(200);
    const approved = await call('POST', `/v1/organizations/${org.id}/join-requests/${requestId}/approve`, {
      token: owner.token,
      body: {},
    });
    vi.useRealTimers();

    expect(approved.status).toBe(409);
    // The accept closed the request in its own batch (finding 2), so the approval meets a request
    // no longer pending; before that fix it met the member (already_member). Either is a refusal.
    expect(['already_member', 'invalid_state']).toContain(approved.json.code);
    expect(
      await countRows(
        'memberships',
        `organization_id = '${org.id}' AND user_id = '${u.user.id}' AND role = 'developer'`,
      ),
    ).toBe(1);
    // Today: the request reads approved (by the owner, with the role asked for), a member.added
    // with via "request" is in the audit log, and the "approved" email is queued.
    expect(await statusOf(requestId)).not.toBe('approved');
    expect(
      await countRows(
        'audit_events',
        `organization_id = '${org.id}' AND action = 'member.added' AND target_id = '${u.user.id}'`,
      ),
    ).toBe(0);
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'join_request.approved'`)).toBe(
      0,
    );
    expect(await countRows('outbox', `kind = 'join_decision_email' AND subject_id = '${requestId}'`)).toBe(0);
  });
});

describe('POST …/domains/{id}/verify', () => {
  // Finding 4. The route looks the TXT record up (an outbound DNS-over-HTTPS request, up to 5 s)
  // before anyone has authenticated the caller: any string shaped like a session token, or any
  // account that is not even a member, makes the Worker query the resolver.
  it('makes no DNS lookup for a caller who is not signed in, or not an owner of the organization', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Lookup Co');
    const domain = `lookup-${Date.now().toString(36)}-${++n}.com`;
    const added = await call('POST', `/v1/organizations/${org.id}/domains`, { token: owner.token, body: { domain } });
    expect(added.status).toBe(201);
    const queries = async () =>
      (
        (await (
          await fetch(new URL(`/__queries?name=${added.json.verification.name}`, env.DOH_URL))
        ).json()) as unknown[]
      ).length;
    const path = `/v1/organizations/${org.id}/domains/${added.json.id}/verify`;
    const forged = await call('POST', path, { token: `8b_ses_${'x'.repeat(40)}` });
    expect(forged.status).toBe(401);
    const stranger = await signUp(uniqueEmail('stranger'));
    const notMember = await call('POST', path, { token: stranger.token });
    expect(notMember.status).toBe(404);
    // Today: two lookups, one per refused call.
    expect(await queries()).toBe(0);
  });
});

describe('invite_link.disabled', () => {
  // Finding 5. Rotating a link that is already disabled writes a second invite_link.disabled
  // (audit row and webhook event) for a link whose URL admitted no one already.
  it('is written once for a link disabled and then rotated', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Rotate Co');
    const link = await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } });
    const id = link.json.id as string;
    expect(
      (await call('PATCH', `${linksOf(org.id)}/${id}`, { token: owner.token, body: { enabled: false } })).status,
    ).toBe(200);
    expect((await call('POST', `${linksOf(org.id)}/${id}/rotate`, { token: owner.token })).status).toBe(200);
    expect(await countRows('audit_events', `action = 'invite_link.disabled' AND target_id = '${id}'`)).toBe(1);
  });
});

describe('seat refusals decided by the guarded SQL', () => {
  // Finding 6. Seats are also changed outside the coordinator (PATCH /v1/organizations/{org} writes
  // D1 directly), so a limit lowered between a write's read and its batch is met only by the
  // guarded SQL. A single create and every way in then say seat_limit; a bulk row says
  // pending_invitation_limit and a resend says invalid_state. The quota charge, which runs between
  // the read and the batch, stands in for that PATCH here.
  const lowersSeatsOnCharge = (org: string) => ({
    ...roomyQuota(),
    charge: async () => {
      await env.DB.prepare('UPDATE organizations SET seat_limit = 1 WHERE id = ?').bind(org).run();
      return null;
    },
  });

  it('a bulk row refused for want of a seat says seat_limit', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Bulk Seats Co');
    const ctx = {
      db: drizzle(env.DB),
      organizationId: org.id,
      actor: { userId: owner.user.id, ip: null, userAgent: null },
      now: Date.now(),
      quota: lowersSeatsOnCharge(org.id),
    };
    const email = uniqueEmail('bulkseat');
    const out = await createInvitationsBulk(ctx, {
      rows: [{ email, role: 'viewer', message: null, expiresInDays: 7 }],
    });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(0);
    expect(out.value.results[0]).toMatchObject({ status: 409, error: { code: 'seat_limit' } });
  });

  it('the resend of an expired invitation refused for want of a seat says seat_limit', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Resend Seats Co');
    const sent = await invite(owner.token, org.id, { email: uniqueEmail('resendseat'), role: 'viewer' });
    expect(sent.status).toBe(201);
    await setExpiresAt(sent.json.id, Date.now() - 1000);
    await setLastSentAt(sent.json.id, Date.now() - 3_600_000);
    const ctx = {
      db: drizzle(env.DB),
      organizationId: org.id,
      actor: { userId: owner.user.id, ip: null, userAgent: null },
      now: Date.now(),
      quota: lowersSeatsOnCharge(org.id),
    };
    const out = await resendInvitation(ctx, { id: sent.json.id });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.code).toBe('seat_limit');
  });
});
