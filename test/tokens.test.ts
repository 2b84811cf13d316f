import { env } from 'cloudflare:workers';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { describe, it, vi } from 'vitest';
import { AUDIENCE, signToken, verifyToken } from '../src/auth/tokens';
import { call, invite, lastToken, mailsTo, ownerWithOrg, setLastSentAt, uniqueEmail } from './helpers';

const OTHER_KEY = 'another-signing-key-that-is-long-enough-0123456789';

async function currentJti(id: string) {
  return (await env.DB.prepare('SELECT token_id FROM invitations WHERE id = ?').bind(id).first<{ token_id: string }>())!
    .token_id;
}

describe('SPEC §3: invitation tokens', () => {
  it('are HS256 JWTs with a kid, the invitation audience and exp = expires_at', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const token = await lastToken(email);
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(header.kid).toMatch(/^[0-9a-f]{16}$/);
    const payload = JSON.parse(atob(token.split('.')[1].replaceAll('-', '+').replaceAll('_', '/')));
    expect(payload).toMatchObject({
      aud: AUDIENCE.invitation,
      sub: inv.id,
      org: org.id,
      exp: Math.ceil(Date.parse(inv.expires_at) / 1000),
    });
  });

  it('every kind of invalid token is 410 invitation_invalid at preview and accept', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const mk = async (role = 'viewer') => {
      const email = uniqueEmail();
      const inv = (await invite(owner.token, org.id, { email, role })).json;
      return { inv, email, token: await lastToken(email) };
    };
    const base = await mk();
    const [h, p, s] = base.token.split('.');
    const flip = (x: string) => (x[5] === 'A' ? 'B' : 'A');
    const tamperedPayload = btoa(
      JSON.stringify({ ...JSON.parse(atob(p.replaceAll('-', '+').replaceAll('_', '/'))), sub: 'inv_other' }),
    )
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
    const jti = await currentJti(base.inv.id);
    const realKid = decodeProtectedHeader(base.token).kid!;
    const claims = { sub: base.inv.id, jti, org: org.id };
    const signIn = uniqueEmail('signin');
    await call('POST', '/v1/auth/email-link', { body: { email: signIn } });

    const superseded = await mk();
    await setLastSentAt(superseded.inv.id, Date.now() - 61_000);
    await call('POST', `/v1/organizations/${org.id}/invitations/${superseded.inv.id}/resend`, { token: owner.token });
    const revoked = await mk();
    await call('POST', `/v1/organizations/${org.id}/invitations/${revoked.inv.id}/revoke`, { token: owner.token });
    const accepted = await mk();
    await call('POST', '/v1/invitations/accept', { body: { token: accepted.token, name: 'A' } });

    const cases: Record<string, string> = {
      malformed: 'not-a-jwt',
      empty_signature: `${h}.${p}.`,
      tampered_signature: `${h}.${p}.${s.slice(0, 5)}${flip(s)}${s.slice(6)}`,
      tampered_payload: `${h}.${tamperedPayload}.${s}`,
      alg_none: `${btoa(JSON.stringify({ alg: 'none', kid: realKid })).replace(/=+$/, '')}.${p}.`,
      wrong_key_same_kid: await new SignJWT({ org: org.id })
        .setProtectedHeader({ alg: 'HS256', kid: realKid })
        .setSubject(base.inv.id)
        .setJti(jti)
        .setAudience(AUDIENCE.invitation)
        .setIssuer('8bit-ai-invitations')
        .setExpirationTime('1d')
        .sign(new TextEncoder().encode(OTHER_KEY)),
      wrong_key: await signToken(
        { TOKEN_SIGNING_KEY: OTHER_KEY },
        AUDIENCE.invitation,
        { ...claims, expiresAt: Date.now() + 86_400_000 },
        Date.now(),
      ),
      wrong_audience: await lastToken(signIn, 'sign-in'),
      expired_exp: await signToken(
        env,
        AUDIENCE.invitation,
        { ...claims, expiresAt: Date.now() - 5_000 },
        Date.now() - 60_000,
      ),
      superseded: superseded.token,
      revoked: revoked.token,
      accepted: accepted.token,
    };
    for (const [name, token] of Object.entries(cases)) {
      const preview = await call('GET', `/v1/invitations/preview?token=${encodeURIComponent(token)}`);
      expect(preview.status, name).toBe(410);
      expect(preview.json.code, name).toBe('invitation_invalid');
      const accept = await call('POST', '/v1/invitations/accept', { body: { token, name: 'Mallory' } });
      expect(accept.status, name).toBe(410);
    }
    // The untouched base link still works after all of that.
    expect((await call('GET', `/v1/invitations/preview?token=${encodeURIComponent(base.token)}`)).status).toBe(200);
  });

  it('rotation: a link signed with a previous key verifies while that key is listed', async ({ expect }) => {
    const now = Date.now();
    const old = await signToken(
      { TOKEN_SIGNING_KEY: OTHER_KEY },
      AUDIENCE.invitation,
      { sub: 'inv_1', jti: 'jti_1', org: 'org_1', expiresAt: now + 60_000 },
      now,
    );
    const rotated = { TOKEN_SIGNING_KEY: env.TOKEN_SIGNING_KEY, TOKEN_SIGNING_KEYS_PREVIOUS: ` ${OTHER_KEY} ` };
    expect(await verifyToken(rotated, AUDIENCE.invitation, old, now)).toMatchObject({
      sub: 'inv_1',
      jti: 'jti_1',
      org: 'org_1',
    });
    expect(await verifyToken({ TOKEN_SIGNING_KEY: env.TOKEN_SIGNING_KEY }, AUDIENCE.invitation, old, now)).toBeNull();
  });

  it('never appear in any API response or log line', async ({ expect }) => {
    const logged: string[] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    const bodies: string[] = [];
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail();
    const created = await invite(owner.token, org.id, { email, role: 'viewer', message: 'hi' });
    bodies.push(created.text);
    const token = await lastToken(email);
    const jti = await currentJti(created.json.id);
    bodies.push((await call('GET', `/v1/organizations/${org.id}/invitations`, { token: owner.token })).text);
    bodies.push(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${created.json.id}`, { token: owner.token })).text,
    );
    bodies.push(
      (
        await call('PATCH', `/v1/organizations/${org.id}/invitations/${created.json.id}`, {
          token: owner.token,
          body: { role: 'developer' },
        })
      ).text,
    );
    bodies.push((await call('GET', `/v1/invitations/preview?token=${token}`)).text);
    bodies.push((await call('POST', '/v1/invitations/accept', { body: { token, name: 'Quiet' } })).text);
    bodies.push((await call('POST', '/v1/invitations/accept', { body: { token, name: 'Again' } })).text);
    const audit = await env.DB.prepare('SELECT * FROM audit_events WHERE organization_id = ?').bind(org.id).all();
    vi.restoreAllMocks();
    expect(mailsTo(email)).toHaveLength(1);
    for (const text of [...bodies, ...logged, JSON.stringify(audit.results)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]);
      expect(text).not.toContain(jti);
    }
  });
});
