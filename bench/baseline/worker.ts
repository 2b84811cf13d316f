import { AUDIENCE, signToken, verifyToken } from '../../src/auth/tokens';

interface BaselineEnv {
  DB: D1Database;
  TOKEN_SIGNING_KEY: string;
}

async function sha256Hex(value: string) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/baseline') {
      // One authenticated D1 read and one D1 insert: the floor any real endpoint stands on.
      const token = request.headers.get('Authorization')?.replace(/^Bearer /, '') ?? '';
      const row = await env.DB.prepare('SELECT user_id FROM tokens WHERE token_hash = ?')
        .bind(await sha256Hex(token))
        .first<{ user_id: string }>();
      if (!row) return new Response('unauthorized', { status: 401 });
      await env.DB.prepare('INSERT INTO events (id, user_id, created_at) VALUES (?, ?, ?)')
        .bind(crypto.randomUUID(), row.user_id, Date.now())
        .run();
      return Response.json({ ok: true }, { status: 201 });
    }
    if (url.pathname === '/crypto') {
      // n signs and n verifies of invitation tokens with the product's own code. Timed from outside:
      // inside workerd the clock does not advance during computation.
      const n = Math.min(Number(url.searchParams.get('n') ?? '0'), 100_000);
      const now = Date.now();
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const t = await signToken(
          env,
          AUDIENCE.invitation,
          { sub: `inv_${i}`, jti: `jti_${i}`, org: 'org_bench', expiresAt: now + 86_400_000 },
          now,
        );
        if (await verifyToken(env, AUDIENCE.invitation, t, now)) ok++;
      }
      return Response.json({ n, ok });
    }
    return new Response('not found', { status: 404 });
  },
};
