import { describe, it } from 'vitest';
import { env, exports } from 'cloudflare:workers';
import { BASE, call, fetchWithEnv, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §13, global reads: every request's queries run in one D1 session (reads may use a
 * replica, writes go to the primary); responses carry `x-d1-bookmark`, and a client sending it
 * back reads its own writes. Locally there are no replicas: these tests check the bookmark round
 * trip, where each session starts, and that a write's bookmark covers the write.
 */

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The primary's current bookmark, read directly. */
async function primaryBookmark() {
  const session = env.DB.withSession('first-primary');
  await session.prepare('SELECT 1').all();
  return session.getBookmark()!;
}

/** The D1 binding, recording where each session it opens starts (and the sessions). */
function recordingDb(starts: string[], sessions: D1DatabaseSession[] = []): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'withSession') {
        return (first: string) => {
          starts.push(first);
          const session = target.withSession(first);
          sessions.push(session);
          return session;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('SPEC §13: D1 sessions and x-d1-bookmark', () => {
  it("a write's response carries a bookmark that covers the coordinator's batch, not only the Worker's own reads", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Bookmarks Inc');
    const read = await call('GET', `/v1/organizations/${org.id}/invitations`, { token: owner.token });
    expect(read.headers.get('x-d1-bookmark')).toMatch(BOOKMARK);

    const sessions: D1DatabaseSession[] = [];
    const starts: string[] = [];
    const before = await primaryBookmark();
    const created = await fetchWithEnv(
      `/v1/organizations/${org.id}/invitations`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${owner.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: uniqueEmail('bm'), role: 'viewer' }),
      },
      { ...env, DB: recordingDb(starts, sessions) },
    );
    expect(created.status).toBe(201);
    const written = created.headers.get('x-d1-bookmark')!;
    expect(written).toMatch(BOOKMARK);
    // SPEC §19: the Worker's session made no D1 call at all (it used to read the caller and their
    // membership); the caller's authentication and the batch ran in the organization's coordinator.
    // The response's bookmark is the coordinator's. (Then a session for any read after the write,
    // starting at the write's bookmark.)
    expect(starts).toEqual(['first-primary', written]);
    expect(written > before).toBe(true);
    expect(sessions[0].getBookmark()).toBeNull();
    expect(written <= (await primaryBookmark())).toBe(true);
  });

  it('a client sending the bookmark back reads its own write, in a session that starts at that bookmark', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Read Your Writes');
    const email = uniqueEmail('ryw');
    const created = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email, role: 'viewer' },
    });
    const bookmark = created.headers.get('x-d1-bookmark')!;

    const starts: string[] = [];
    const res = await fetchWithEnv(
      `/v1/organizations/${org.id}/invitations`,
      { headers: { Authorization: `Bearer ${owner.token}`, 'x-d1-bookmark': bookmark } },
      { ...env, DB: recordingDb(starts) },
    );
    expect(res.status).toBe(200);
    expect(starts[0]).toBe(bookmark);
    const body = (await res.json()) as { data: { email: string }[] };
    expect(body.data.map((i) => i.email)).toContain(email);
    expect(res.headers.get('x-d1-bookmark')! >= bookmark).toBe(true);
  });

  it('reads start unconstrained and writes on the primary; a malformed bookmark is ignored, never passed to D1', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Session Starts');
    const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
      const starts: string[] = [];
      const res = await fetchWithEnv(
        path,
        {
          method,
          headers: {
            Authorization: `Bearer ${owner.token}`,
            ...(body ? { 'Content-Type': 'application/json' } : {}),
            ...headers,
          },
          body: body ? JSON.stringify(body) : undefined,
        },
        { ...env, DB: recordingDb(starts) },
      );
      return { status: res.status, first: starts[0] };
    };
    expect(await send('GET', `/v1/organizations/${org.id}`)).toEqual({ status: 200, first: 'first-unconstrained' });
    expect(await send('GET', '/v1/me')).toEqual({ status: 200, first: 'first-unconstrained' });
    expect(await send('PATCH', `/v1/organizations/${org.id}`, {}, { default_locale: 'de' })).toEqual({
      status: 200,
      first: 'first-primary',
    });
    expect(
      await send(
        'POST',
        `/v1/organizations/${org.id}/invitations`,
        {},
        { email: uniqueEmail('start'), role: 'viewer' },
      ),
    ).toMatchObject({ status: 201, first: 'first-primary' });

    const valid = await primaryBookmark();
    expect(await send('GET', `/v1/organizations/${org.id}`, { 'x-d1-bookmark': valid })).toEqual({
      status: 200,
      first: valid,
    });
    for (const bad of [
      'garbage',
      '',
      ' ',
      valid.replace(/^0/, 'G'),
      `${valid}0`,
      valid.slice(1),
      `${valid},${valid}`,
      'x'.repeat(2000),
      "'; DROP TABLE users; --",
    ]) {
      expect(await send('GET', `/v1/organizations/${org.id}`, { 'x-d1-bookmark': bad }), bad).toEqual({
        status: 200,
        first: 'first-unconstrained',
      });
    }
    expect(
      await send('DELETE', `/v1/organizations/${org.id}/invitations/inv_nope`, { 'x-d1-bookmark': 'garbage' }),
    ).toMatchObject({ first: 'first-primary' });
    // A write never starts at a bookmark the client sent (an old one would let a replica answer
    // its authorization): it starts on the primary.
    expect(
      await send('POST', '/v1/me/api-tokens', { 'x-d1-bookmark': valid }, { name: 'from a bookmark' }),
    ).toMatchObject({ status: 201, first: 'first-primary' });
    expect(
      await send('PATCH', `/v1/organizations/${org.id}`, { 'x-d1-bookmark': valid }, { default_locale: 'fr' }),
    ).toEqual({ status: 200, first: 'first-primary' });
  });

  it("after a coordinator's write, the request reads in a session that starts at that write's bookmark", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Read Back');
    const inv = (
      await call('POST', `/v1/organizations/${org.id}/invitations`, {
        token: owner.token,
        body: { email: uniqueEmail('rb'), role: 'viewer' },
      })
    ).json;
    const starts: string[] = [];
    const res = await fetchWithEnv(
      `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`,
      { method: 'POST', headers: { Authorization: `Bearer ${owner.token}` } },
      { ...env, DB: recordingDb(starts) },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('revoked');
    // The Worker's own session, then the one its read-back runs in: at the coordinator's bookmark.
    expect(starts).toEqual(['first-primary', res.headers.get('x-d1-bookmark')]);
  });

  it('a read that misses the caller (a replica may not have a new credential yet) asks the primary before answering 401', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Fresh Credentials');
    const get = async (token: string) => {
      const starts: string[] = [];
      const res = await fetchWithEnv(
        `/v1/organizations/${org.id}`,
        { headers: { Authorization: `Bearer ${token}` } },
        { ...env, DB: recordingDb(starts) },
      );
      return { status: res.status, starts };
    };
    expect(await get(owner.token)).toEqual({ status: 200, starts: ['first-unconstrained'] });
    expect(await get('8b_ses_notarealsessiontoken000000000000000')).toEqual({
      status: 401,
      starts: ['first-unconstrained', 'first-primary'],
    });
    const outsider = await ownerWithOrg('Elsewhere');
    expect(await get(outsider.owner.token)).toEqual({ status: 404, starts: ['first-unconstrained', 'first-primary'] });
  });

  it("pages carry the bookmark in a cookie: a form post sets it, and the next page load's session starts there", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Page Bookmarks');
    const csrf = 'b'.repeat(43);
    const post = await exports.default.fetch(
      new Request(`${BASE}/orgs/${org.slug}/settings/team/invitations`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `8b_csrf=${csrf}; 8b_session=${owner.token}`,
          Origin: BASE,
        },
        body: new URLSearchParams({ _csrf: csrf, email: uniqueEmail('page'), role: 'viewer', expires_in_days: '7' }),
      }),
    );
    expect(post.status).toBe(303);
    const cookie = post.headers.getSetCookie().find((c) => c.startsWith('8b_d1_bookmark='))!;
    expect(cookie).toMatch(/^8b_d1_bookmark=[0-9a-f-]{59}; /);
    expect(cookie.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=300', 'Path=/', 'SameSite=Lax']);
    const bookmark = cookie.slice('8b_d1_bookmark='.length, cookie.indexOf(';'));
    expect(bookmark).toBe(post.headers.get('x-d1-bookmark'));

    const starts: string[] = [];
    const page = await fetchWithEnv(
      `/orgs/${org.slug}/settings/team`,
      { headers: { Cookie: `8b_session=${owner.token}; 8b_d1_bookmark=${bookmark}` } },
      { ...env, DB: recordingDb(starts) },
    );
    expect(page.status).toBe(200);
    expect(starts[0]).toBe(bookmark);
    // A signed-in invitee's GET of the link accepts (a write through the coordinator) and
    // redirects into the organization: that GET sets the cookie too.
    const invitee = await signUp(uniqueEmail('getaccept'));
    await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email: invitee.email, role: 'viewer' },
    });
    const link = await fetchWithEnv(
      `/invitations/accept?token=${await lastToken(invitee.email)}`,
      { redirect: 'manual', headers: { Cookie: `8b_session=${invitee.token}` } },
      env,
    );
    expect(link.status).toBe(303);
    expect(
      link.headers.getSetCookie().some((c) => c.startsWith(`8b_d1_bookmark=${link.headers.get('x-d1-bookmark')};`)),
    ).toBe(true);

    // The API reads the header only: a cookie never moves an API session.
    const starts2: string[] = [];
    await fetchWithEnv(
      `/v1/organizations/${org.id}`,
      { headers: { Authorization: `Bearer ${owner.token}`, Cookie: `8b_d1_bookmark=${bookmark}` } },
      { ...env, DB: recordingDb(starts2) },
    );
    expect(starts2[0]).toBe('first-unconstrained');
  });
});
