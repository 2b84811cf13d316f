import { runBatch } from '../db/batch';
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { signInLinks } from '../db/schema';
import { ApiError } from '../errors';
import { normalizeEmail } from '../lib/crypto';
import { newId } from '../lib/ids';
import { EmailSchema, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { sendMail } from '../email/mailer';
import { signInMail } from '../email/templates';
import { clearSessionCookie, currentUser, requireUser, setSessionCookie } from './auth.middleware';
import { findUserByEmail, newSession } from './auth.store';
import { AUDIENCE, signToken, verifyToken } from './tokens';
import { UserSchema } from '../me/me.schemas';

export const SIGN_IN_LINK_TTL_MS = 15 * 60 * 1000;

const emailLink = createRoute({
  method: 'post',
  path: '/email-link',
  tags: ['auth'],
  summary: 'Email a sign-in link (always 202)',
  request: { body: jsonBody(z.object({ email: EmailSchema }).strict()) },
  responses: { 202: { description: 'Accepted; a link is emailed' }, ...problems(400, 413, 415) },
});

const verify = createRoute({
  method: 'post',
  path: '/verify',
  tags: ['auth'],
  summary: 'Redeem a sign-in link; creates the account if needed',
  request: {
    body: jsonBody(z.object({ token: z.string().min(1).max(4096), name: z.string().trim().min(1).max(100).optional() }).strict()),
  },
  responses: {
    200: jsonResponse(z.object({ user: UserSchema, session_token: z.string() }), 'Signed in'),
    ...problems(400, 410, 413, 415),
  },
});

const signOut = createRoute({
  method: 'post',
  path: '/sign-out',
  tags: ['auth'],
  summary: 'End the current session',
  security: bearer,
  middleware: [requireUser],
  responses: { 204: { description: 'Signed out' }, ...problems(401) },
});

export const authRoutes = createRouter()
  .openapi(emailLink, async (c) => {
    const email = normalizeEmail(c.req.valid('json').email);
    const now = Date.now();
    const jti = newId('jti');
    const expiresAt = now + SIGN_IN_LINK_TTL_MS;
    await c.var.db.insert(signInLinks).values({ jti, email, expiresAt, createdAt: now });
    const token = await signToken(c.env, AUDIENCE.signIn, { sub: email, jti, expiresAt }, now);
    const link = `${c.env.APP_URL.replace(/\/$/, '')}/auth/verify?token=${encodeURIComponent(token)}`;
    try {
      await sendMail(c.env, signInMail(email, link));
    } catch (err) {
      // Same answer either way: the response never tells whether an address exists or works.
      console.error(JSON.stringify({ event: 'sign_in_email_failed', error: String(err) }));
    }
    return c.body(null, 202);
  })
  .openapi(verify, async (c) => {
    const { token, name } = c.req.valid('json');
    const now = Date.now();
    const db = c.var.db;
    const claims = await verifyToken(c.env, AUDIENCE.signIn, token, now);
    const link = claims
      ? await db.query.signInLinks.findFirst({
          where: and(eq(signInLinks.jti, claims.jti), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)),
        })
      : undefined;
    if (!claims || !link || link.email !== claims.sub) {
      throw new ApiError('link_invalid', 'This sign-in link is invalid, expired or already used. Ask for a new one.');
    }
    const existing = await findUserByEmail(db, link.email);
    if (!existing && !name) throw new ApiError('name_required', 'No account exists for this email yet: give a name to create it.');
    const user = existing ?? { id: newId('usr'), email: link.email, name: name!, emailVerifiedAt: now, createdAt: now };
    const session = await newSession(user.id, now);
    const used = sql`EXISTS (SELECT 1 FROM sign_in_links WHERE jti = ${link.jti} AND used_at = ${now})`;
    const [consumed] = await runBatch(db, [
      sql`UPDATE sign_in_links SET used_at = ${now} WHERE jti = ${link.jti} AND used_at IS NULL`,
      existing
        ? sql`UPDATE users SET email_verified_at = coalesce(email_verified_at, ${now}) WHERE id = ${user.id} AND ${used}`
        : sql`INSERT OR IGNORE INTO users (id, email, name, email_verified_at, created_at)
            SELECT ${user.id}, ${user.email}, ${user.name}, ${now}, ${now} WHERE ${used}`,
      sql`INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at)
        SELECT ${session.row.id}, (SELECT id FROM users WHERE email = ${user.email}), ${session.row.tokenHash}, ${now}, ${session.row.expiresAt}
        WHERE ${used}`,
    ]);
    if (consumed.meta.changes !== 1) throw new ApiError('link_invalid', 'This sign-in link was already used.');
    const signedIn = (await findUserByEmail(db, user.email))!;
    setSessionCookie(c, session.token);
    return c.json({ user: { id: signedIn.id, email: signedIn.email, name: signedIn.name }, session_token: session.token }, 200);
  })
  .openapi(signOut, async (c) => {
    const user = currentUser(c);
    if (user.via === 'session') await c.var.db.run(sql`DELETE FROM sessions WHERE id = ${user.credentialId}`);
    clearSessionCookie(c);
    return c.body(null, 204);
  });
