import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import worker from '../src/index';
import { coordinatorFor } from '../src/lib/coordinator';
import { OrgEmailWindow } from '../src/rate-limit/email-quota';
import { Browser } from './browser-client';
import { BASE, addMember, call, countRows, invite, ownerWithOrg, setExpiresAt, signUp, uniqueEmail } from './helpers';

/*
 * Issue 18's independent review of the redesigned write path: each finding, as a test that failed
 * before its fix. The Worker no longer reads D1 before a write, so what it used to decide first
 * (who the caller is, whether they are a member) must still come first in every answer.
 */

describe('a write refused for its input still answers 401 and 404 first (SPEC §4)', () => {
  it('a non-member with a bad body gets 404, for an existing organization as for a missing one', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Hidden Co');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    const stranger = await signUp(uniqueEmail('stranger'));
    const writes: [string, string, unknown][] = [
      ['POST', '/invitations', {}],
      ['POST', '/invitations/bulk', { invitations: 'no' }],
      ['PATCH', `/invitations/${inv.id}`, { role: 'emperor' }],
      ['POST', `/invitations/${inv.id}/resend`, { expires_in_days: 99 }],
      ['PATCH', `/members/${owner.user.id}`, { role: 'emperor' }],
    ];
    for (const [method, path, body] of writes) {
      for (const ref of [org.slug, org.id, 'no-such-org-here']) {
        const res = await call(method, `/v1/organizations/${ref}${path}`, { token: stranger.token, body });
        expect(res.status, `${method} ${ref}${path}`).toBe(404);
      }
    }
  });

  it('a dead credential with a bad body gets 401, whether the organization exists or not', async ({ expect }) => {
    const { org } = await ownerWithOrg('Dead Cred Co');
    for (const ref of [org.slug, 'no-such-org-there']) {
      for (const secret of ['8b_ses_notarealsessiontoken000000000000000', 'x']) {
        const res = await call('POST', `/v1/organizations/${ref}/invitations`, { token: secret, body: {} });
        expect(res.status, `${ref} ${secret}`).toBe(401);
      }
    }
  });

  it('a secret that is no credential at all never reaches a coordinator', async ({ expect }) => {
    const { org } = await ownerWithOrg('Edge Co');
    let woken = 0;
    const tripwire = {
      idFromName: (name: string) => env.ORG_COORDINATOR.idFromName(name),
      get: () => {
        woken += 1;
        throw new Error('a coordinator was called for a secret that is no credential');
      },
    } as unknown as Env['ORG_COORDINATOR'];
    for (const secret of ['not-a-token', `8b_ses_${'x'.repeat(300)}`]) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`${BASE}/v1/organizations/${org.id}/invitations`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ email: uniqueEmail(), role: 'viewer' }),
        }),
        { ...env, ORG_COORDINATOR: tripwire },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(401);
    }
    expect(woken).toBe(0);
  });
});

describe('team page actions answer as the page would, before anything else', () => {
  it('a made-up session cookie is sent to sign in, for an existing organization as for a missing one', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Cookie Co');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    for (const slug of [org.slug, 'no-such-team-here']) {
      const b = new Browser();
      await b.get('/sign-in');
      b.signInAs('8b_ses_garbagegarbagegarbagegarbage00000000');
      const res = await b.post(`/orgs/${slug}/settings/team/invitations/${inv.id}/revoke`, {});
      expect(res.status, slug).toBe(303);
      expect(res.location, slug).toBe('/sign-in');
    }
  });

  it('a signed-in non-member gets the 404 page, even with an invalid role', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Role Form Co');
    const stranger = await signUp(uniqueEmail('outsider'));
    for (const slug of [org.slug, 'no-such-team-there']) {
      const b = new Browser().signInAs(stranger.token);
      await b.get('/');
      const res = await b.post(`/orgs/${slug}/settings/team/members/${owner.user.id}/role`, { role: 'emperor' });
      expect(res.status, slug).toBe(404);
    }
  });
});

describe('rule 1 comes first for invitation writes', () => {
  it('a viewer gets 403 for an invitation that does not exist, as for one that does', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Viewer Co');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    for (const id of [inv.id, 'inv_aaaaaaaaaaaaaaaaaaaa']) {
      const base = `/v1/organizations/${org.id}/invitations/${id}`;
      expect((await call('POST', `${base}/revoke`, { token: viewer.token })).status).toBe(403);
      expect((await call('POST', `${base}/resend`, { token: viewer.token, body: {} })).status).toBe(403);
      expect((await call('PATCH', base, { token: viewer.token, body: { role: 'billing' } })).status).toBe(403);
    }
  });

  it("a viewer's refused create writes nothing, not even a stale invitation's expiry", async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Stale Co');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const email = uniqueEmail('stale');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setExpiresAt(inv.id, Date.now() - 1000);
    const audits = await countRows('audit_events', `organization_id = '${org.id}'`);
    const res = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: viewer.token,
      body: { email, role: 'viewer' },
    });
    expect(res.status).toBe(403);
    expect(await countRows('invitations', `id = '${inv.id}' AND status = 'pending'`)).toBe(1);
    expect(await countRows('audit_events', `organization_id = '${org.id}'`)).toBe(audits);
  });
});

describe("the organization's hourly email window", () => {
  it('never moves back: a request stamped before the hour, arriving after one stamped after it, counts in the newer window', async ({
    expect,
  }) => {
    const { org } = await ownerWithOrg('Window Co');
    const hour = 3_600_000;
    const top = Math.ceil(Date.now() / hour) * hour;
    await runInDurableObject(coordinatorFor(env, org.id), async (_instance, state) => {
      const window = new OrgEmailWindow(state.storage, env);
      expect(await window.charge(top + 50, 3)).toBeNull();
      expect(await window.charge(top - 100, 1)).toBeNull();
      expect((await window.at(top + 60)).count).toBe(4);
    });
  });
});
