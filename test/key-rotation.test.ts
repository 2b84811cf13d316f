import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { fetchWithEnv, invite, lastToken, ownerWithOrg, uniqueEmail } from './helpers';

const NEW_KEY = 'the-next-signing-key-after-rotation-0123456789abcdef';

const send = fetchWithEnv;

describe('signing key rotation', () => {
  it('a link sent before the rotation keeps working while the old key is listed as previous, and only then', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Rotation Co');
    const email = uniqueEmail('rot');
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const token = await lastToken(email);
    const rotated = { ...env, TOKEN_SIGNING_KEY: NEW_KEY, TOKEN_SIGNING_KEYS_PREVIOUS: env.TOKEN_SIGNING_KEY } as Env;
    const dropped = { ...env, TOKEN_SIGNING_KEY: NEW_KEY, TOKEN_SIGNING_KEYS_PREVIOUS: '' } as Env;

    expect((await send(`/v1/invitations/preview?token=${token}`, {}, dropped)).status).toBe(410);
    expect((await send(`/v1/invitations/preview?token=${token}`, {}, rotated)).status).toBe(200);
    const accepted = await send(
      '/v1/invitations/accept',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token, name: 'Rota Tion' }),
      },
      rotated,
    );
    expect(accepted.status).toBe(200);
  });
});
