import { env, exports } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import { DEV_SIGNING_KEY } from '../src/lib/deployment';
import { BASE, fetchWithEnv } from './helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: a misconfigured deployment refuses to serve.
 */

describe('§14 deployment guards', () => {
  const request = (url = `${BASE}/healthz`) => ({ url, init: {} as RequestInit });
  const served = async (overrides: Partial<Env>, url?: string) => {
    const r = request(url);
    const res = await fetchWithEnv(new URL(r.url).pathname, r.init, { ...env, ...overrides });
    return res;
  };

  it('refuse to serve (503 misconfigured) outside local development with plain http, the dev key, or a short key', async ({
    expect,
  }) => {
    const good = 'k'.repeat(32);
    const cases: [Partial<Env>, boolean][] = [
      [{ APP_URL: 'http://invitations.example', TOKEN_SIGNING_KEY: good }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: DEV_SIGNING_KEY }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: 'é'.repeat(15) }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: good }, true],
      // A previous key verifies links too: the same rules.
      [
        {
          APP_URL: 'https://invitations.example',
          TOKEN_SIGNING_KEY: good,
          TOKEN_SIGNING_KEYS_PREVIOUS: `${'p'.repeat(32)},${DEV_SIGNING_KEY}`,
        },
        false,
      ],
      [
        { APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: good, TOKEN_SIGNING_KEYS_PREVIOUS: 'short' },
        false,
      ],
      [
        {
          APP_URL: 'https://invitations.example',
          TOKEN_SIGNING_KEY: good,
          TOKEN_SIGNING_KEYS_PREVIOUS: ` ${'p'.repeat(32)} `,
        },
        true,
      ],
      // Local development may use the published key.
      [{ APP_URL: 'http://localhost:8787', TOKEN_SIGNING_KEY: DEV_SIGNING_KEY }, true],
    ];
    for (const [overrides, ok] of cases) {
      const res = await served(overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(ok ? 200 : 503);
      if (!ok) {
        const body = (await res.json()) as { code: string; detail: string };
        expect(body.code).toBe('misconfigured');
        expect(body.detail).not.toContain(String(overrides.TOKEN_SIGNING_KEY));
      }
    }
  });

  it('the default (local) APP_URL deployed as is: requests to a public host are refused', async ({ expect }) => {
    const res = await exports.default.fetch(new Request('https://invitations.example.workers.dev/v1/me'));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain('APP_URL');
  });

  it('the problem is logged once, not on every request', async ({ expect }) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // A host no other test uses, so this problem's text is new to the isolate.
      const host = `https://logged-once-${Date.now().toString(36)}.example`;
      for (let i = 0; i < 3; i++)
        expect((await exports.default.fetch(new Request(`${host}/healthz`))).status).toBe(503);
      const lines = error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('deployment_misconfigured'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(new URL(host).hostname);
    } finally {
      error.mockRestore();
    }
  });
});
