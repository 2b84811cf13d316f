import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { countRows, drainOutbox, fetchWithEnv, lastToken, signUp, uniqueEmail } from './helpers';

/** The real D1 binding, except that `batch` (every atomic change) throws. */
/** Every batch fails, on the database and in each of its sessions (the requests' queries run in one). */
function failingBatches<T extends D1Database | D1DatabaseSession>(db: T): T {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch')
        return async () => {
          throw new Error('D1_ERROR: injected failure');
        };
      if (prop === 'withSession')
        return (...args: Parameters<D1Database['withSession']>) =>
          failingBatches((target as D1Database).withSession(...args));
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const send = fetchWithEnv;

describe('faults: D1 failing mid-request', () => {
  it('gives a 5xx problem with a request id, and leaves no half-written organization', async ({ expect }) => {
    const owner = await signUp(uniqueEmail('fault'));
    const before = [await countRows('organizations'), await countRows('memberships'), await countRows('audit_events')];
    const res = await send(
      '/v1/organizations',
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${owner.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Doomed Inc' }),
      },
      { ...env, DB: failingBatches(env.DB) },
    );
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string; request_id: string };
    expect(body.code).toBe('internal_error');
    expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
    expect(JSON.stringify(body)).not.toContain('D1_ERROR');
    expect([await countRows('organizations'), await countRows('memberships'), await countRows('audit_events')]).toEqual(
      before,
    );
  });

  it('a sign-in link whose redemption fails stays unused and works afterwards', async ({ expect }) => {
    const email = uniqueEmail('retry');
    await send(
      '/v1/auth/email-link',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) },
      env,
    );
    await drainOutbox();
    const token = await lastToken(email, 'sign-in');
    const verify = (e: Env) =>
      send(
        '/v1/auth/verify',
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, name: 'R' }) },
        e,
      );
    expect((await verify({ ...env, DB: failingBatches(env.DB) })).status).toBe(500);
    expect(await countRows('users', `email = '${email}'`)).toBe(0);
    expect(await countRows('sign_in_links', `email = '${email}' AND used_at IS NOT NULL`)).toBe(0);
    expect((await verify(env)).status).toBe(200);
  });
});
