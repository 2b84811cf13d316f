import { describe, it } from 'vitest';
import { addMember, call, invite, ownerWithOrg, setExpiresAt, setLastSentAt, signUp, uniqueEmail } from './helpers';

const ROLES = ['owner', 'admin', 'developer', 'viewer', 'billing'] as const;
const MANAGERS = new Set(['owner', 'admin']);

describe('rule 1: the authorization matrix (5 roles × every invitation operation)', async () => {
  const { owner, org } = await ownerWithOrg('Matrix Co');
  const tokens: Record<string, string> = { owner: owner.token };
  for (const role of ROLES.slice(1)) tokens[role] = (await addMember(owner.token, org.id, role)).token;

  const freshInvitation = async () => {
    const res = await invite(owner.token, org.id, { email: uniqueEmail('target'), role: 'viewer' });
    return res.json.id as string;
  };

  const operations: Record<string, (token: string) => Promise<{ status: number; json: any }>> = {
    send: (t) => invite(t, org.id, { email: uniqueEmail('sent'), role: 'viewer' }),
    list: (t) => call('GET', `/v1/organizations/${org.id}/invitations`, { token: t }),
    get: async (t) => call('GET', `/v1/organizations/${org.id}/invitations/${await freshInvitation()}`, { token: t }),
    edit: async (t) =>
      call('PATCH', `/v1/organizations/${org.id}/invitations/${await freshInvitation()}`, {
        token: t,
        body: { role: 'developer' },
      }),
    resend: async (t) =>
      call('POST', `/v1/organizations/${org.id}/invitations/${await freshInvitation()}/resend`, { token: t }),
    revoke: async (t) =>
      call('POST', `/v1/organizations/${org.id}/invitations/${await freshInvitation()}/revoke`, { token: t }),
    members: (t) => call('GET', `/v1/organizations/${org.id}/members`, { token: t }),
  };

  for (const role of ROLES) {
    for (const [op, run] of Object.entries(operations)) {
      it(`${role} → ${op}`, async ({ expect }) => {
        // Keep room under the pending limit for the operations that create invitations.
        const pending = await call('GET', `/v1/organizations/${org.id}/invitations?status=pending&limit=100`, {
          token: owner.token,
        });
        for (const inv of pending.json.data)
          await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`, { token: owner.token });
        const res = await run(tokens[role]);
        if (op === 'members') expect(res.status).toBe(200);
        else if (MANAGERS.has(role))
          expect(res.status, JSON.stringify(res.json)).toBe(op === 'resend' ? 429 : op === 'send' ? 201 : 200);
        else {
          expect(res.status).toBe(403);
          expect(res.json.code).toBe('forbidden');
        }
      });
    }
  }

  it('non-members get 404 (not 403) on every organization route, by id and by slug', async ({ expect }) => {
    const outsider = await signUp(uniqueEmail('outsider'), 'Otto Outsider');
    for (const ref of [org.id, org.slug]) {
      for (const [method, path] of [
        ['GET', `/v1/organizations/${ref}`],
        ['GET', `/v1/organizations/${ref}/members`],
        ['GET', `/v1/organizations/${ref}/invitations`],
        ['POST', `/v1/organizations/${ref}/invitations`],
        ['GET', `/v1/organizations/${ref}/invitations/inv_x`],
        ['POST', `/v1/organizations/${ref}/invitations/inv_x/revoke`],
      ] as const) {
        const res = await call(method, path, {
          token: outsider.token,
          body: method === 'POST' ? { email: 'a@b.co', role: 'viewer' } : undefined,
        });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
    }
    // Same answer as for an organization that does not exist.
    expect((await call('GET', '/v1/organizations/org_doesnotexist', { token: outsider.token })).status).toBe(404);
  });

  it('requests without credentials get 401', async ({ expect }) => {
    const res = await call('GET', `/v1/organizations/${org.id}`);
    expect(res.status).toBe(401);
    expect(res.json.code).toBe('unauthorized');
    expect((await call('GET', '/v1/me', { token: '8b_ses_forged' })).status).toBe(401);
  });
});

describe('rule 2: only owners grant the owner role', () => {
  it('an admin cannot invite an owner, edit an invitation to owner, or promote/demote an owner', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Owners Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const dev = await addMember(owner.token, org.id, 'developer');
    const inv = await invite(admin.token, org.id, { email: uniqueEmail(), role: 'owner' });
    expect(inv.status).toBe(403);
    expect(inv.json.code).toBe('forbidden');
    const pending = (await invite(admin.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/invitations/${pending.id}`, {
          token: admin.token,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${dev.user.id}`, {
          token: admin.token,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${owner.user.id}`, {
          token: admin.token,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${owner.user.id}`, { token: admin.token })).status,
    ).toBe(403);
    // An admin may still manage non-owner roles.
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${dev.user.id}`, {
          token: admin.token,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(200);
    // Nor revive an owner invitation through resend (it re-issues the owner offer).
    const ownerInv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'owner' })).json;
    await setExpiresAt(ownerInv.id, Date.now() - 1);
    await setLastSentAt(ownerInv.id, Date.now() - 120_000);
    const revive = await call('POST', `/v1/organizations/${org.id}/invitations/${ownerInv.id}/resend`, {
      token: admin.token,
    });
    expect(revive.status).toBe(403);
    expect(revive.json.code).toBe('forbidden');
    // And an owner may do all of it.
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'owner' })).status).toBe(201);
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${dev.user.id}`, {
          token: owner.token,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(200);
  });
});

describe('rules 1 and 2 are checked inside the coordinator, not only before queueing', () => {
  it('an actor demoted to viewer meanwhile can no longer write through the coordinator', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Demoted Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const { coordinatorFor } = await import('../src/lib/coordinator');
    const { env } = await import('cloudflare:workers');
    await call('PATCH', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
      token: owner.token,
      body: { role: 'viewer' },
    });
    // Straight to the Durable Object, as a request authorized just before the demotion would arrive.
    const outcome = await coordinatorFor(env, org.id).createInvitation(
      {
        organizationId: org.id,
        credential: { secret: admin.token },
        client: { ip: null, userAgent: null },
        now: Date.now(),
      },
      { email: uniqueEmail(), role: 'viewer', expiresInDays: 7 },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'forbidden' });
  });
});

describe('rule 12: the last owner', () => {
  it('cannot leave, be removed or be demoted; with a second owner they can', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Last Owner Co');
    const demote = await call('PATCH', `/v1/organizations/${org.id}/members/${owner.user.id}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(demote.status).toBe(409);
    expect(demote.json.code).toBe('last_owner');
    const leave = await call('DELETE', `/v1/organizations/${org.id}/members/${owner.user.id}`, { token: owner.token });
    expect(leave.json.code).toBe('last_owner');

    const second = await addMember(owner.token, org.id, 'owner');
    // Two owners demoting each other at once: one must remain.
    const [a, b] = await Promise.all([
      call('PATCH', `/v1/organizations/${org.id}/members/${second.user.id}`, {
        token: owner.token,
        body: { role: 'admin' },
      }),
      call('PATCH', `/v1/organizations/${org.id}/members/${owner.user.id}`, {
        token: second.token,
        body: { role: 'admin' },
      }),
    ]);
    // The loser is refused either as last_owner or, already demoted, as no longer an owner.
    expect([a.status, b.status].filter((s) => s === 200)).toHaveLength(1);
    expect([a.status, b.status].filter((s) => s !== 200)[0]).toBeOneOf([403, 409]);
    const members = (await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token })).json.data;
    expect(members.filter((m: { role: string }) => m.role === 'owner')).toHaveLength(1);
  });

  it('a member can leave by themselves; others (non-managers) cannot remove anyone', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Leave Co');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const dev = await addMember(owner.token, org.id, 'developer');
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${dev.user.id}`, { token: viewer.token })).status,
    ).toBe(403);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${viewer.user.id}`, { token: viewer.token })).status,
    ).toBe(204);
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: viewer.token })).status).toBe(404);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${dev.user.id}`, { token: owner.token })).status,
    ).toBe(204);
  });
});
