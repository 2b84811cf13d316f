import { describe, it } from 'vitest';
import {
  addMember,
  call,
  countRows,
  invite,
  lastToken,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §16, seats: seats used = members + live pending invitations, never above `seat_limit`. Every
 * invitation path that takes a new seat is refused with 409 `seat_limit` (single, bulk row, the
 * resend of an expired invitation); accepting an invitation already counted takes none; lowering
 * the limit below what is used is allowed and only blocks new seats.
 */

const org$ = (token: string, org: string) => call('GET', `/v1/organizations/${org}`, { token });
const setSeats = (token: string, org: string, seat_limit: number | null) =>
  call('PATCH', `/v1/organizations/${org}`, { token, body: { seat_limit } });

describe('seats', () => {
  it('the organization shows seats used and the limit; only owners set it', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seats Shown');
    expect((await org$(owner.token, org.id)).json).toMatchObject({
      seat_limit: null,
      seats_used: 1,
      domain_join: 'off',
      domain_join_role: 'viewer',
    });
    const admin = await addMember(owner.token, org.id, 'admin');
    await invite(owner.token, org.id, { email: uniqueEmail('pending'), role: 'viewer' });
    expect((await setSeats(admin.token, org.id, 5)).status).toBe(403);
    const set = await setSeats(owner.token, org.id, 5);
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ seat_limit: 5, seats_used: 3 });
    expect((await org$(admin.token, org.id)).json).toMatchObject({ seat_limit: 5, seats_used: 3 });
    // Removing the limit.
    expect((await setSeats(owner.token, org.id, null)).json).toMatchObject({ seat_limit: null, seats_used: 3 });
  });

  it('an invitation, a bulk row and the resend of an expired invitation are refused with 409 seat_limit', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Seats Full');
    const expired = (await invite(owner.token, org.id, { email: uniqueEmail('old'), role: 'viewer' })).json;
    await setExpiresAt(expired.id, Date.now() - 1000);
    await setLastSentAt(expired.id, Date.now() - 120_000);
    const live = uniqueEmail('live');
    expect((await invite(owner.token, org.id, { email: live, role: 'viewer' })).status).toBe(201);
    // Owner + one live pending = 2 of 2.
    expect((await setSeats(owner.token, org.id, 2)).json).toMatchObject({ seats_used: 2 });

    const single = await invite(owner.token, org.id, { email: uniqueEmail('one'), role: 'viewer' });
    expect(single.status).toBe(409);
    expect(single.json).toMatchObject({ code: 'seat_limit', status: 409 });
    expect(single.headers.get('content-type')).toMatch(/problem\+json/);

    const bulk = await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, {
      token: owner.token,
      body: { invitations: [{ email: uniqueEmail('b1'), role: 'viewer' }] },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.json.results[0]).toMatchObject({ status: 409, error: { code: 'seat_limit' } });

    const resend = await call('POST', `/v1/organizations/${org.id}/invitations/${expired.id}/resend`, {
      token: owner.token,
    });
    expect(resend.status).toBe(409);
    expect(resend.json.code).toBe('seat_limit');
    expect(
      await countRows(
        'invitations',
        `organization_id = '${org.id}' AND status = 'pending' AND expires_at > ${Date.now()}`,
      ),
    ).toBe(1);

    // Accepting the invitation already counted takes no new seat.
    const accepted = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(live), name: 'Live Person' },
    });
    expect(accepted.status).toBe(200);
    expect((await org$(owner.token, org.id)).json).toMatchObject({ seats_used: 2, seat_limit: 2 });

    // A free seat again (the limit raised): the expired invitation can be resent.
    await setSeats(owner.token, org.id, 3);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${expired.id}/resend`, { token: owner.token }))
        .status,
    ).toBe(200);
  });

  it('lowering the limit below what is used is allowed, and blocks only new seats', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seats Lowered');
    await addMember(owner.token, org.id, 'developer');
    const pending = (await invite(owner.token, org.id, { email: uniqueEmail('p'), role: 'viewer' })).json;
    const lowered = await setSeats(owner.token, org.id, 1);
    expect(lowered.status).toBe(200);
    expect(lowered.json).toMatchObject({ seat_limit: 1, seats_used: 3 });
    expect((await invite(owner.token, org.id, { email: uniqueEmail('q'), role: 'viewer' })).json.code).toBe(
      'seat_limit',
    );
    // Nothing already there is touched.
    expect(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${pending.id}`, { token: owner.token })).json.status,
    ).toBe('pending');
    expect((await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token })).json.data).toHaveLength(
      2,
    );
  });

  it('20 concurrent invitations against 4 free seats: exactly 4 created, 16 × 409 seat_limit', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seats Race');
    await setSeats(owner.token, org.id, 5);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        invite(owner.token, org.id, { email: uniqueEmail(`r${i}`), role: 'viewer' }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(4);
    expect(results.filter((r) => r.status === 409 && r.json.code === 'seat_limit')).toHaveLength(16);
    expect((await org$(owner.token, org.id)).json.seats_used).toBe(5);
  });

  it('bad settings are refused with 400 and change nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seats Bad Input');
    const bad: unknown[] = [
      { seat_limit: 0 },
      { seat_limit: -1 },
      { seat_limit: 100_001 },
      { seat_limit: 2.5 },
      { seat_limit: '5' },
      { domain_join: 'sometimes' },
      { domain_join: null },
      { domain_join_role: 'owner' },
      { domain_join_role: 'admin' },
      { seat_limit: 5, unknown: true },
      {},
    ];
    for (const body of bad) {
      const res = await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.code, JSON.stringify(body)).toBe('validation_failed');
    }
    expect((await org$(owner.token, org.id)).json).toMatchObject({
      seat_limit: null,
      domain_join: 'off',
      domain_join_role: 'viewer',
    });
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'organization.updated'`)).toBe(
      0,
    );
  });
});
