import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it, vi } from 'vitest';
import { errorMessage } from '../src/lib/redact';
import { fetchWithEnv, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: secrets and bound parameters never reach the logs.
 */

describe('§14 logs', () => {
  it('one redaction function: JWT-shaped strings, 8b_ and whsec_ secrets go, and driver errors lose their bound parameters', async ({
    expect,
  }) => {
    const db = drizzle(env.DB);
    const secret = '8b_ses_this-is-a-secret-value-0123456789';
    let thrown: unknown;
    try {
      // A real driver failure: a NOT NULL column left out, with a secret among the bound values.
      await db.run(sql`INSERT INTO sessions (id, token_hash) VALUES (${'ses_x'}, ${secret})`);
    } catch (err) {
      thrown = err;
    }
    expect(String(thrown) + String((thrown as Error).message)).toContain(secret.slice(8));
    const logged = errorMessage(thrown);
    expect(logged).toContain('NOT NULL');
    expect(logged).not.toContain(secret.slice(8));
    expect(logged).not.toMatch(/params/);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const text = errorMessage(
      new Error(
        `failed for ${jwt} with 8b_pat_abcDEF123_x and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw and /accept?token=abc.def`,
      ),
    );
    for (const leaked of [jwt, '8b_pat_abcDEF123_x', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'abc.def'])
      expect(text).not.toContain(leaked);
  });

  it('an unhandled error is logged through it: no bound parameters, no secrets', async ({ expect }) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const user = await signUp(uniqueEmail('boom'));
      // A database that fails every statement that binds this user's id (a driver error).
      const { poisonedDb } = await import('./delivery-fakes');
      const res = await fetchWithEnv(
        '/v1/me',
        { headers: { Authorization: `Bearer ${user.token}` } },
        { ...env, DB: poisonedDb(user.user.id) },
      );
      expect(res.status).toBe(500);
      const lines = error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('unhandled_error'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(user.token);
      expect(lines[0]).not.toContain(user.email);
    } finally {
      error.mockRestore();
    }
  });
});
