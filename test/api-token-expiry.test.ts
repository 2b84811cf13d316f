import { env, exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { formatDate, t } from '../src/i18n/messages';
import { LIVE_API_TOKENS_PER_ACCOUNT } from '../src/auth/api-tokens';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { BASE, call, countRows, drainOutbox, fetchWithEnv, mailsTo, parseMail, signUp, uniqueEmail } from './helpers';

/* SPEC §18: new API tokens expire after 90 days by default, and creating one emails the account. */

const DAY_MS = 86_400_000;
const create = (session: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call('POST', '/v1/me/api-tokens', { token: session, body, headers });
const tokenMails = async (email: string) => {
  const parsed = await Promise.all(mailsTo(email).map(async (m) => ({ raw: m.raw, ...(await parseMail(m.raw)) })));
  return parsed.filter((m) => m.subject?.includes(t('en', 'token_email.subject')));
};

describe('§18 new API tokens expire after 90 days unless expires_in_days says otherwise', () => {
  it('without expires_in_days a token expires 90 days after its creation, and stops working then', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('default-expiry'));
    const created = await create(user.token, { name: 'no expiry given' });
    expect(created.status).toBe(201);
    expect(Date.parse(created.json.expires_at) - Date.parse(created.json.created_at)).toBe(90 * DAY_MS);
    const [listed] = (await call('GET', '/v1/me/api-tokens', { token: user.token })).json.data;
    expect(listed.expires_at).toBe(created.json.expires_at);
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(200);
    // Day 90 reached (moved in the database): the token no longer works.
    await env.DB.prepare('UPDATE api_tokens SET created_at = created_at - ?, expires_at = expires_at - ? WHERE id = ?')
      .bind(90 * DAY_MS, 90 * DAY_MS, created.json.id)
      .run();
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(401);
  });

  it('expires_in_days 1 and 365 are taken as given', async ({ expect }) => {
    const user = await signUp(uniqueEmail('bounds'));
    for (const days of [1, 365]) {
      const created = await create(user.token, { name: `${days} days`, expires_in_days: days });
      expect(created.status).toBe(201);
      expect(Date.parse(created.json.expires_at) - Date.parse(created.json.created_at)).toBe(days * DAY_MS);
    }
  });

  it('a bad expires_in_days is a 400 problem (validation_failed) that writes nothing and emails no one', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('bad-expiry'));
    for (const bad of [0, 366, -1, 1.5, '30', null, 1e9]) {
      const res = await create(user.token, { name: 'x', expires_in_days: bad });
      expect(res.status, String(bad)).toBe(400);
      expect(res.headers.get('content-type'), String(bad)).toMatch(/^application\/problem\+json/);
      expect(res.json.code, String(bad)).toBe('validation_failed');
      expect(res.json.errors?.[0]?.path, String(bad)).toBe('expires_in_days');
    }
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(0);
    expect(
      await countRows('outbox', "kind = 'api_token_email' AND subject_id NOT IN (SELECT id FROM api_tokens)"),
    ).toBe(0);
    expect(await tokenMails(user.email)).toEqual([]);
  });
});

describe('§18 creating an API token emails the account', () => {
  it('the email is sent, names the token, its creation and expiry and the Account page, and contains no token', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('notified'));
    const created = (await create(user.token, { name: 'CI deploys', expires_in_days: 30 })).json;
    const [mail, ...more] = await tokenMails(user.email);
    expect(more).toEqual([]);
    expect(mail.subject).toBe(t('en', 'token_email.subject'));
    expect(mail.text).toContain(
      t('en', 'token_email.intro', {
        name: 'CI deploys',
        email: user.email,
        date: formatDate('en', Date.parse(created.created_at)),
      }),
    );
    expect(mail.text).toContain(
      t('en', 'token_email.expires', { date: formatDate('en', Date.parse(created.expires_at)) }),
    );
    expect(mail.text).toContain(`${BASE}/account`);
    for (const secret of [created.token, created.token.slice(7), user.token]) expect(mail.raw).not.toContain(secret);
    expect(mail.raw).not.toMatch(/8b_(pat|ses)_/);
    const row = await env.DB.prepare(
      "SELECT status, subject_id FROM outbox WHERE kind = 'api_token_email' AND subject_id = ?",
    )
      .bind(created.id)
      .first();
    expect(row).toEqual({ status: 'sent', subject_id: created.id });
  });

  it('a token revoked before its email left still gets the email, which says it was revoked', async ({ expect }) => {
    const user = await signUp(uniqueEmail('quick-revoke'));
    // Created without the tests' drain (as when the queue is slow), then revoked at once.
    const res = await exports.default.fetch(
      new Request(`${BASE}/v1/me/api-tokens`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${user.token}`,
          'Content-Type': 'application/json',
          'CF-Connecting-IP': '192.0.2.31',
        },
        body: JSON.stringify({ name: 'used and dropped' }),
      }),
    );
    const created = (await res.json()) as { id: string };
    expect((await call('DELETE', `/v1/me/api-tokens/${created.id}`, { token: user.token })).status).toBe(204);
    expect(await tokenMails(user.email)).toEqual([]);
    await drainOutbox();
    const [mail] = await tokenMails(user.email);
    expect(mail.text).toContain(t('en', 'token_email.revoked'));
  });

  it("the email speaks the creating browser's language, and English after it for the account's owner", async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('sprache'));
    const created = (await create(user.token, { name: 'Skript' }, { 'Accept-Language': 'de-DE,de;q=0.9' })).json;
    const [mail] = await tokenMails(user.email);
    expect(mail.subject).toBe(`${t('de', 'token_email.subject')} / ${t('en', 'token_email.subject')}`);
    const date = (locale: 'de' | 'en') => formatDate(locale, Date.parse(created.created_at));
    const german = mail.text!.indexOf(
      t('de', 'token_email.intro', { name: 'Skript', email: user.email, date: date('de') }),
    );
    const english = mail.text!.indexOf(
      t('en', 'token_email.intro', { name: 'Skript', email: user.email, date: date('en') }),
    );
    expect(german).toBeGreaterThanOrEqual(0);
    expect(english).toBeGreaterThan(german);
    expect(mail.html).toContain('<section lang="de">');
  });
});

describe('§18 creating API tokens is metered: 10 per hour per account, 50 live per account', () => {
  /** `n` live tokens of the user written straight into D1 (no creation counted, no email). */
  async function seedTokens(userId: string, n: number, extra: { revoked?: boolean; expired?: boolean } = {}) {
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: n }, (_, i) =>
        env.DB.prepare(
          'INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).bind(
          `tok_seed${userId.slice(-8)}${extra.revoked ? 'r' : extra.expired ? 'e' : 'l'}${i}`,
          userId,
          `seeded ${i}`,
          `hash-${userId}-${extra.revoked ? 'r' : extra.expired ? 'e' : 'l'}-${i}`,
          now - 1000,
          extra.expired ? now - 1 : now + 30 * DAY_MS,
          extra.revoked ? now - 1 : null,
        ),
      ),
    );
  }
  const liveTokens = (userId: string) =>
    countRows(
      'api_tokens',
      `user_id = '${userId}' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${Date.now()})`,
    );

  it('the 11th creation in an hour is 429 rate_limited with Retry-After: no token written, no email', async ({
    expect,
  }) => {
    expect(LIMITS.apiTokenCreationPerAccount).toEqual({ max: 10, windowMs: 60 * 60_000 });
    const user = await signUp(uniqueEmail('metered'));
    for (let i = 1; i <= 10; i++)
      expect((await create(user.token, { name: `token ${i}` })).status, `creation ${i}`).toBe(201);
    expect(await tokenMails(user.email)).toHaveLength(10);

    const eleventh = await create(user.token, { name: 'one too many' });
    expect(eleventh.status).toBe(429);
    expect(eleventh.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(eleventh.json.code).toBe('rate_limited');
    expect(eleventh.json.token).toBeUndefined();
    const retryAfter = Number(eleventh.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(10);
    expect(await countRows('api_tokens', `user_id = '${user.user.id}' AND name = 'one too many'`)).toBe(0);
    expect(
      await countRows('outbox', "kind = 'api_token_email' AND subject_id NOT IN (SELECT id FROM api_tokens)"),
    ).toBe(0);
    await drainOutbox();
    expect(await tokenMails(user.email)).toHaveLength(10);
    // Per account: another account is not affected.
    const other = await signUp(uniqueEmail('unmetered-neighbour'));
    expect((await create(other.token, { name: 'mine' })).status).toBe(201);
  });

  it('15 concurrent creations: exactly 10 are created, the other 5 are 429 (the limit is exact)', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('concurrent-rate'));
    const responses = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        exports.default.fetch(
          new Request(`${BASE}/v1/me/api-tokens`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${user.token}`,
              'Content-Type': 'application/json',
              'CF-Connecting-IP': '192.0.2.45',
            },
            body: JSON.stringify({ name: `burst ${i}` }),
          }),
        ),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(10);
    expect(
      await countRows(
        'outbox',
        `kind = 'api_token_email' AND subject_id IN (SELECT id FROM api_tokens WHERE user_id = '${user.user.id}')`,
      ),
    ).toBe(10);
  });

  it('an account holding 50 live tokens gets 409 api_token_limit, writing nothing; revoked and expired ones do not count', async ({
    expect,
  }) => {
    expect(LIVE_API_TOKENS_PER_ACCOUNT).toBe(50);
    const user = await signUp(uniqueEmail('capped'));
    await seedTokens(user.user.id, 5, { revoked: true });
    await seedTokens(user.user.id, 5, { expired: true });
    await seedTokens(user.user.id, 49);
    expect((await create(user.token, { name: 'the fiftieth' })).status).toBe(201);
    const refused = await create(user.token, { name: 'the fifty-first' });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.json).toMatchObject({ code: 'api_token_limit', status: 409 });
    expect(refused.json.detail).toMatch(/50 live API tokens/);
    expect(await liveTokens(user.user.id)).toBe(50);
    expect(await countRows('api_tokens', `user_id = '${user.user.id}' AND name = 'the fifty-first'`)).toBe(0);
    expect(
      await countRows('outbox', "kind = 'api_token_email' AND subject_id NOT IN (SELECT id FROM api_tokens)"),
    ).toBe(0);
    expect(await tokenMails(user.email)).toHaveLength(1);
    // Revoking one makes room for one.
    const [first] = (await call('GET', '/v1/me/api-tokens', { token: user.token })).json.data;
    expect((await call('DELETE', `/v1/me/api-tokens/${first.id}`, { token: user.token })).status).toBe(204);
    expect((await create(user.token, { name: 'after a revoke' })).status).toBe(201);
  });

  it('20 concurrent creations at the cap boundary (45 live) never exceed it: exactly 5 are created and emailed', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('concurrent-cap'));
    await seedTokens(user.user.id, LIVE_API_TOKENS_PER_ACCOUNT - 5);
    // A raised rate limit (it scales; the cap does not), so that only the cap decides here.
    const raised = { ...env, RATE_LIMIT_SCALE: '10' } as Env;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetchWithEnv(
          '/v1/me/api-tokens',
          {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${user.token}`,
              'Content-Type': 'application/json',
              'CF-Connecting-IP': '192.0.2.44',
            },
            body: JSON.stringify({ name: `concurrent ${i}` }),
          },
          raised,
        ),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    for (const r of responses.filter((r) => r.status === 409))
      expect(((await r.json()) as { code: string }).code).toBe('api_token_limit');
    expect(await liveTokens(user.user.id)).toBe(LIVE_API_TOKENS_PER_ACCOUNT);
    expect(
      await countRows(
        'outbox',
        `kind = 'api_token_email' AND subject_id IN (SELECT id FROM api_tokens WHERE user_id = '${user.user.id}')`,
      ),
    ).toBe(5);
  });
});
