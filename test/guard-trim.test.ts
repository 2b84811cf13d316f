import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { DEV_SIGNING_KEY } from '../src/lib/deployment';
import { fetchWithEnv } from './helpers';

// SPEC §18 "Guard details": the deployment guard compares the signing key after trimming whitespace.
const PRODUCTION: Partial<Env> = { APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEYS_PREVIOUS: '' };

const served = (key: string) => fetchWithEnv('/v1/me', {}, { ...env, ...PRODUCTION, TOKEN_SIGNING_KEY: key });

describe('SPEC §18: the deployment guard trims the signing key before comparing', () => {
  it('the development key with a trailing space, a leading space or a newline is refused (503 misconfigured), never echoed', async ({
    expect,
  }) => {
    for (const key of [
      `${DEV_SIGNING_KEY} `,
      ` ${DEV_SIGNING_KEY}`,
      `${DEV_SIGNING_KEY}\n`,
      `\t${DEV_SIGNING_KEY}\r\n`,
    ]) {
      const res = await served(key);
      expect(res.status, JSON.stringify(key)).toBe(503);
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).toBe('misconfigured');
      expect(body.detail).toContain('development key');
      expect(body.detail).not.toContain(DEV_SIGNING_KEY);
    }
  });

  it('deep health names the signing key for the padded development key', async ({ expect }) => {
    const res = await fetchWithEnv(
      '/healthz?deep=1',
      {},
      { ...env, ...PRODUCTION, TOKEN_SIGNING_KEY: `${DEV_SIGNING_KEY} ` },
    );
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; problem?: string }> };
    expect(body.checks.signing_key).toMatchObject({ ok: false, problem: expect.stringContaining('development key') });
  });

  it('whitespace does not pad a short key past 32 bytes', async ({ expect }) => {
    const res = await served(`short-key${' '.repeat(40)}`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain('shorter than 32 bytes');
  });

  it('a real key with surrounding whitespace still serves', async ({ expect }) => {
    const res = await served(` ${'k'.repeat(48)}\n`);
    expect(res.status).toBe(401); // past the guard: /v1/me wants a caller
  });
});
