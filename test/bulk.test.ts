import { describe, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { addMember, call, countRows, invite, mailsTo, ownerWithOrg, uniqueEmail } from './helpers';

/* SPEC §12: bulk invitations, one result per row in input order, the pending limit exact. */

const bulk = (token: string, org: string, rows: unknown[], headers: Record<string, string> = {}) =>
  call('POST', `/v1/organizations/${org}/invitations/bulk`, { token, body: { invitations: rows }, headers });
const pendingIn = async (org: string) => countRows('invitations', `organization_id = '${org}' AND status = 'pending'`);

describe('POST /v1/organizations/{org}/invitations/bulk', () => {
  it('50 rows against an organization with 3 free slots: exactly 3 × 201, the first three, in input order', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Bulk Slots');
    for (let i = 0; i < 7; i++) await invite(owner.token, org.id, { email: uniqueEmail('seed'), role: 'viewer' });
    const rows = Array.from({ length: 50 }, (_, i) => ({ email: uniqueEmail(`row${i}`), role: 'viewer' }));
    const res = await bulk(owner.token, org.id, rows);
    expect(res.status).toBe(200);
    expect(res.json.results.map((r: { index: number }) => r.index)).toEqual(rows.map((_, i) => i));
    expect(res.json.results.map((r: { status: number }) => r.status)).toEqual([201, 201, 201, ...Array(47).fill(409)]);
    expect(res.json.results[3]).toMatchObject({
      email: rows[3].email,
      status: 409,
      error: {
        code: 'pending_invitation_limit',
        status: 409,
        type: expect.stringContaining('pending-invitation-limit'),
      },
    });
    expect(res.json.results[0].invitation).toMatchObject({ email: rows[0].email, status: 'pending', role: 'viewer' });
    expect(await pendingIn(org.id)).toBe(10);
    // Each created row is a real invitation with its email sent; the refused ones got none.
    expect(mailsTo(rows[2].email)).toHaveLength(1);
    expect(mailsTo(rows[3].email)).toHaveLength(0);
  });

  it('5 concurrent bulk requests of 10 rows and 10 single creates, against an empty organization: exactly 10 created', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Bulk Race');
    const requests = [
      ...Array.from({ length: 5 }, (_, b) =>
        bulk(
          owner.token,
          org.id,
          Array.from({ length: 10 }, (_, i) => ({ email: uniqueEmail(`race${b}-${i}`), role: 'developer' })),
        ),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        invite(owner.token, org.id, { email: uniqueEmail(`single${i}`), role: 'developer' }),
      ),
    ];
    const answers = await Promise.all(requests);
    const created =
      answers
        .slice(0, 5)
        .reduce((n, a) => n + a.json.results.filter((r: { status: number }) => r.status === 201).length, 0) +
      answers.slice(5).filter((a) => a.status === 201).length;
    expect(created).toBe(10);
    expect(await pendingIn(org.id)).toBe(10);
  });

  it('each row answers what a single create would have, in order: members, pending, repeats within the request, bad rows, roles', async ({
    expect,
  }) => {
    const setup = async () => {
      const { owner, org } = await ownerWithOrg('Bulk Codes');
      const admin = await addMember(owner.token, org.id, 'admin');
      const member = await addMember(owner.token, org.id, 'viewer');
      const pending = uniqueEmail('pending');
      await invite(owner.token, org.id, { email: pending, role: 'viewer' });
      return { owner, org, admin, member, pending };
    };
    const shape = (s: Awaited<ReturnType<typeof setup>>, fresh: string) => [
      { email: fresh, role: 'developer' },
      { email: s.member.email.toUpperCase(), role: 'viewer' },
      { email: s.pending, role: 'viewer' },
      { email: ` ${fresh.toUpperCase()} `, role: 'billing' },
      { email: 'not-an-email', role: 'viewer' },
      { email: uniqueEmail('norole'), role: 'emperor' },
      { email: uniqueEmail('owner'), role: 'owner' },
      { email: uniqueEmail('extra'), role: 'viewer', surprise: true },
    ];
    const a = await setup();
    const viaBulk = await bulk(a.admin.token, a.org.id, shape(a, uniqueEmail('fresh')));
    const b = await setup();
    const singles = [];
    for (const row of shape(b, uniqueEmail('fresh'))) singles.push(await invite(b.admin.token, b.org.id, row));
    const codes = (r: { status: number; error?: { code: string } }) => `${r.status}:${r.error?.code ?? ''}`;
    expect(viaBulk.json.results.map(codes)).toEqual(
      singles.map((s) => `${s.status}:${s.status === 201 ? '' : s.json.code}`),
    );
    expect(viaBulk.json.results.map(codes)).toEqual([
      '201:',
      '409:already_member',
      '409:invitation_already_pending',
      '409:invitation_already_pending',
      '400:validation_failed',
      '400:validation_failed',
      '403:forbidden',
      '400:validation_failed',
    ]);
    expect(viaBulk.json.results[4].error.errors).toEqual([{ path: 'email', message: expect.any(String) }]);
    expect(viaBulk.json.results[1].email).toBe(a.member.email);
  });

  it('Idempotency-Key covers the whole request: a replay answers the same and sends no second email; another body is 422', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Bulk Replay');
    const rows = [
      { email: uniqueEmail('r1'), role: 'viewer' },
      { email: uniqueEmail('r2'), role: 'viewer' },
    ];
    const headers = { 'Idempotency-Key': 'bulk-once' };
    const first = await bulk(owner.token, org.id, rows, headers);
    const again = await bulk(owner.token, org.id, rows, headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(mailsTo(rows[0].email)).toHaveLength(1);
    expect(await pendingIn(org.id)).toBe(2);
    const other = await bulk(owner.token, org.id, [rows[0]], headers);
    expect(other.status).toBe(422);
    expect(other.json.code).toBe('idempotency_key_reused');
  });

  it('1 to 50 rows; non-managers 403 and non-members 404; nothing written by a refused request', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Bulk Bounds');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const before = await countRows('invitations', `organization_id = '${org.id}'`);
    const outboxBefore = await countRows('outbox', `organization_id = '${org.id}'`);
    expect((await bulk(owner.token, org.id, [])).status).toBe(400);
    expect(
      (
        await bulk(
          owner.token,
          org.id,
          Array.from({ length: 51 }, () => ({ email: uniqueEmail(), role: 'viewer' })),
        )
      ).status,
    ).toBe(400);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, { token: owner.token, body: { rows: [] } }))
        .status,
    ).toBe(400);
    expect((await bulk(viewer.token, org.id, [{ email: uniqueEmail(), role: 'viewer' }])).status).toBe(403);
    const { owner: stranger } = await ownerWithOrg('Elsewhere');
    expect((await bulk(stranger.token, org.id, [{ email: uniqueEmail(), role: 'viewer' }])).status).toBe(404);
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(before);
    expect(await countRows('outbox', `organization_id = '${org.id}'`)).toBe(outboxBefore);
  });

  it('rows refused by an email limit take their repeats with them, and such an answer is not kept for a replay', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Bulk Limited');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerAccount.windowMs);
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, 99)')
      .bind(`invitation-emails:account:${owner.user.id}`, window)
      .run();
    const [x, y] = [uniqueEmail('x'), uniqueEmail('y')];
    const headers = { 'Idempotency-Key': 'limited-once' };
    const res = await bulk(
      owner.token,
      org.id,
      [
        { email: x, role: 'viewer' },
        { email: x, role: 'viewer' },
        { email: y, role: 'viewer' },
      ],
      headers,
    );
    expect(
      res.json.results.map((r: { status: number; error?: { code: string } }) => `${r.status}:${r.error?.code}`),
    ).toEqual(['429:rate_limited', '429:rate_limited', '429:rate_limited']);
    expect(await pendingIn(org.id)).toBe(0);
    // Once the window passes, the same key runs again (nothing was remembered).
    await env.DB.prepare('DELETE FROM rate_limits WHERE bucket = ?')
      .bind(`invitation-emails:account:${owner.user.id}`)
      .run();
    const again = await bulk(
      owner.token,
      org.id,
      [
        { email: x, role: 'viewer' },
        { email: x, role: 'viewer' },
        { email: y, role: 'viewer' },
      ],
      headers,
    );
    expect(again.headers.get('Idempotent-Replayed')).toBeNull();
    expect(again.json.results.map((r: { status: number }) => r.status)).toEqual([201, 409, 201]);
  });
});
