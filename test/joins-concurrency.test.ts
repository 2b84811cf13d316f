import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, countRows, invite, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §16: every way in passes through the organization's coordinator, so the seat limit holds
 * exactly whichever ways race for the last seats: link joins, domain joins, approvals of join
 * requests and new invitations, all at once.
 */

const codeOf = (url: string) => url.slice(url.lastIndexOf('/join/') + '/join/'.length);

/** A domain of the organization's own, verified (its DNS check has its own tests). */
async function verifiedDomain(org: string, ownerId: string, domain: string) {
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO organization_domains (id, organization_id, domain, status, verification_token, verified_at, created_by, created_at, updated_at)
     VALUES (?, ?, ?, 'verified', 'seeded', ?, ?, ?, ?)`,
  )
    .bind(`dom_${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`, org, domain, now, ownerId, now, now)
    .run();
}

describe('every way in against the seat limit', () => {
  it('30 concurrent joins (link, domain auto, approvals, invitations) against 5 free seats: exactly 5', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Seat Race');
    const domain = `race-${Date.now().toString(36)}.example`;
    await verifiedDomain(org.id, owner.user.id, domain);
    const settings = await call('PATCH', `/v1/organizations/${org.id}`, {
      token: owner.token,
      body: { domain_join: 'auto', domain_join_role: 'developer' },
    });
    expect(settings.status).toBe(200);

    // Seven join requests, filed through a link that requires approval (a request takes no seat).
    const asking = await call('POST', `/v1/organizations/${org.id}/invite-links`, {
      token: owner.token,
      body: { role: 'viewer', requires_approval: true },
    });
    expect(asking.status).toBe(201);
    const requests: string[] = [];
    for (let i = 0; i < 7; i++) {
      const who = await signUp(uniqueEmail(`ask${i}`));
      const asked = await call('POST', `/v1/join/${codeOf(asking.json.url)}`, { token: who.token });
      expect(asked.status).toBe(202);
      requests.push(asked.json.join_request.id);
    }

    const open = await call('POST', `/v1/organizations/${org.id}/invite-links`, {
      token: owner.token,
      body: { role: 'viewer', max_uses: 100 },
    });
    expect(open.status).toBe(201);
    const linkJoiners = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(uniqueEmail(`link${i}`))));
    const domainJoiners = await Promise.all(
      Array.from({ length: 8 }, (_, i) => signUp(`domain${i}.${Date.now().toString(36)}@${domain}`)),
    );

    // Owner + nothing pending: 1 seat used; 5 free.
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 6 } })).json,
    ).toMatchObject({ seat_limit: 6, seats_used: 1 });

    const attempts = [
      ...linkJoiners.map((j) => ({
        way: 'link',
        go: () => call('POST', `/v1/join/${codeOf(open.json.url)}`, { token: j.token }),
      })),
      ...domainJoiners.map((j) => ({
        way: 'domain',
        go: () => call('POST', `/v1/organizations/${org.id}/join`, { token: j.token }),
      })),
      ...requests.map((id) => ({
        way: 'approval',
        go: () =>
          call('POST', `/v1/organizations/${org.id}/join-requests/${id}/approve`, { token: owner.token, body: {} }),
      })),
      ...Array.from({ length: 7 }, (_, i) => ({
        way: 'invitation',
        go: () => invite(owner.token, org.id, { email: uniqueEmail(`inv${i}`), role: 'viewer' }),
      })),
    ];
    expect(attempts).toHaveLength(30);
    const results = await Promise.all(attempts.map(async (a) => ({ way: a.way, res: await a.go() })));

    const won = results.filter((r) => r.res.status === 200 || r.res.status === 201);
    const refused = results.filter((r) => r.res.status === 409 && r.res.json.code === 'seat_limit');
    expect(won, JSON.stringify(results.map((r) => [r.way, r.res.status, r.res.json?.code]))).toHaveLength(5);
    expect(refused).toHaveLength(25);
    const after = await call('GET', `/v1/organizations/${org.id}`, { token: owner.token });
    expect(after.json).toMatchObject({ seat_limit: 6, seats_used: 6 });
    const members = await countRows('memberships', `organization_id = '${org.id}'`);
    const pending = await countRows(
      'invitations',
      `organization_id = '${org.id}' AND status = 'pending' AND expires_at > ${Date.now()}`,
    );
    expect(members + pending).toBe(6);
    // Refused approvals leave their requests pending, to approve once a seat frees up.
    const approvedNow = won.filter((r) => r.way === 'approval').length;
    expect(await countRows('join_requests', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(
      7 - approvedNow,
    );
  });

  it('joining another way closes the joiner’s pending request and takes their pending invitation’s seat', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Joined Otherwise');
    const link = async (body: object) =>
      codeOf(
        (
          await call('POST', `/v1/organizations/${org.id}/invite-links`, {
            token: owner.token,
            body: { role: 'viewer', ...body },
          })
        ).json.url,
      );
    const asking = await link({ requires_approval: true });
    const open = await link({});
    const who = await signUp(uniqueEmail('both'));
    const asked = await call('POST', `/v1/join/${asking}`, { token: who.token });
    expect(asked.status).toBe(202);
    // Invited too, and the last seat is that invitation's.
    expect((await invite(owner.token, org.id, { email: who.email, role: 'developer' })).status).toBe(201);
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 2 } });

    expect((await call('POST', `/v1/join/${open}`, { token: who.token })).status).toBe(200);
    const request = await call('GET', '/v1/me/join-requests', { token: who.token });
    expect(request.json.data[0]).toMatchObject({ id: asked.json.join_request.id, status: 'withdrawn' });
    const pending = await call('GET', `/v1/organizations/${org.id}/join-requests?status=pending`, {
      token: owner.token,
    });
    expect(pending.json.data).toEqual([]);
    const after = await call('GET', `/v1/organizations/${org.id}`, { token: owner.token });
    expect(after.json).toMatchObject({ seats_used: 2, pending_invitations: 0 });
    expect(
      await countRows(
        'audit_events',
        `organization_id = '${org.id}' AND action = 'join_request.withdrawn' AND actor_type = 'system'`,
      ),
    ).toBe(1);
  });
});
