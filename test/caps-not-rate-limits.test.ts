import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, it } from 'vitest';
import { OWNED_ORGANIZATIONS_LIMIT } from '../src/lib/limits';
import { PENDING_LIMIT } from '../src/lib/limits';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { coordinatorFor } from '../src/lib/coordinator';
import { RATE_PREFIX } from '../src/rate-limit/email-quota';
import {
  addMember,
  call,
  countRows,
  fetchWithEnv,
  invite,
  lastToken,
  ownerWithOrg,
  signUp,
  uniqueEmail,
} from './helpers';

// SPEC §18 "Caps are not rate limits": RATE_LIMIT_SCALE multiplies rate limits only; the owned
// organizations, pending invitations and the other counts stay what they are.
const SCALE = '3';

/** `userId` owns the cap's worth of organizations, written straight into D1. */
async function ownAtCap(userId: string) {
  const now = Date.now();
  const stmts = [];
  for (let i = 0; i < OWNED_ORGANIZATIONS_LIMIT; i++) {
    const id = `org_cap3${userId.slice(4, 14)}${String(i).padStart(2, '0')}`;
    stmts.push(
      env.DB.prepare('INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').bind(
        id,
        `Cap ${i}`,
        `cap3-${id}`,
        now,
        now,
      ),
    );
    stmts.push(env.DB.prepare("INSERT INTO memberships VALUES (?, ?, 'owner', ?, ?)").bind(id, userId, now, now));
  }
  await env.DB.batch(stmts);
}

const createOrgScaled = (token: string, name: string) =>
  fetchWithEnv(
    '/v1/organizations',
    {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'CF-Connecting-IP': `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
      },
      body: JSON.stringify({ name }),
    },
    { ...env, RATE_LIMIT_SCALE: SCALE },
  );

/**
 * Runs `fn` with the organization's coordinator reading RATE_LIMIT_SCALE=3 (the Durable Object
 * has the deployment's env, not the request's), then puts the scale back.
 */
async function withScaledCoordinator(orgId: string, fn: () => Promise<void>) {
  const set = (scale: string) =>
    runInDurableObject(
      coordinatorFor(env, orgId),
      (instance) => void ((instance as unknown as { env: Env }).env.RATE_LIMIT_SCALE = scale),
    );
  await set(SCALE);
  try {
    await fn();
  } finally {
    await set(env.RATE_LIMIT_SCALE);
  }
}

describe('SPEC §18: caps are not rate limits', () => {
  it(`with RATE_LIMIT_SCALE=3 the ${OWNED_ORGANIZATIONS_LIMIT + 1}th owned organization is still 409 organization_limit, nothing written`, async ({
    expect,
  }) => {
    const collector = await signUp(uniqueEmail('cap-collector'));
    await ownAtCap(collector.user.id);
    const before = await countRows('organizations');
    const res = await createOrgScaled(collector.token, 'One Too Many');
    expect(res.status).toBe(409);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('organization_limit');
    expect(body.detail).toContain(`at most ${OWNED_ORGANIZATIONS_LIMIT} organizations`);
    expect(await countRows('organizations')).toBe(before);
  });

  it('the same scale does raise a rate limit: organization creation per account goes from 10 to 30 a day', async ({
    expect,
  }) => {
    const creator = await signUp(uniqueEmail('scaled-creator'));
    const window = Date.now() - (Date.now() % LIMITS.orgCreationPerAccount.windowMs);
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, ?)')
      .bind(`org-creation:account:${creator.user.id}`, window, LIMITS.orgCreationPerAccount.max)
      .run();
    expect((await call('POST', '/v1/organizations', { token: creator.token, body: { name: 'Unscaled' } })).status).toBe(
      429,
    );
    expect((await createOrgScaled(creator.token, 'Scaled')).status).toBe(201);
  });

  it('inside the coordinator, with the scale raising its email limit, a promotion or an owner invitation still stops at the cap, and the pending limit at 10', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Scaled Caps Co');
    const member = await addMember(owner.token, org.id, 'developer');
    const invitee = await signUp(uniqueEmail('cap-invitee'));
    await ownAtCap(member.user.id);
    await ownAtCap(invitee.user.id);
    await withScaledCoordinator(org.id, async () => {
      // The scale reached the coordinator: 50 emails this hour, and the organization may still send.
      const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerOrg.windowMs);
      await runInDurableObject(coordinatorFor(env, org.id), (_i, state) =>
        state.storage.put(`${RATE_PREFIX}${window}`, LIMITS.invitationEmailsPerOrg.max),
      );
      const ownerInvite = await invite(owner.token, org.id, { email: invitee.email, role: 'owner' });
      expect(ownerInvite.status).toBe(201);

      const promote = await call('PATCH', `/v1/organizations/${org.id}/members/${member.user.id}`, {
        token: owner.token,
        body: { role: 'owner' },
      });
      expect(promote.status).toBe(409);
      expect(promote.json.code).toBe('organization_limit');

      const accept = await call('POST', '/v1/invitations/accept', {
        token: invitee.token,
        body: { token: await lastToken(invitee.email) },
      });
      expect(accept.status).toBe(409);
      expect(accept.json.code).toBe('organization_limit');

      for (let i = 1; i < PENDING_LIMIT; i++)
        expect((await invite(owner.token, org.id, { email: uniqueEmail('pending'), role: 'viewer' })).status).toBe(201);
      const eleventh = await invite(owner.token, org.id, { email: uniqueEmail('eleventh'), role: 'viewer' });
      expect(eleventh.status).toBe(409);
      expect(eleventh.json.code).toBe('pending_invitation_limit');
    });
    expect(await countRows('memberships', `organization_id = '${org.id}' AND role = 'owner'`)).toBe(1);
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(PENDING_LIMIT);
  });
});
