import { bodyLimit } from 'hono/body-limit';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createMiddleware } from 'hono/factory';
import { sql } from 'drizzle-orm';
import { BOOKMARK_HEADER, newestBookmark, openSession } from './db/session';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from './env';
import { ApiError, problemResponse, type ErrorCode } from './errors';
import { randomString } from './lib/ids';
import { errorMessage, errorStack } from './lib/redact';
import { createRouter } from './lib/openapi';
import { authRoutes } from './auth/auth.routes';
import { meRoutes } from './me/me.routes';
import { organizationRoutes } from './organizations/organizations.routes';
import { invitationRoutes } from './invitations/invitations.routes';
import { acceptanceRoutes } from './invitations/acceptance.routes';
import { pages } from './pages';
import { docsPage } from './pages/docs';
import { auditRoutes } from './audit/audit.routes';
import { emailEventRoutes } from './delivery/email-events.routes';
import { webhookRoutes } from './webhooks/webhooks.routes';
import { inviteLinkRoutes, joinRoutes } from './joins/links.routes';
import { domainRoutes, suggestionRoutes } from './joins/domains.routes';
import { joinRequestRoutes, myJoinRequestRoutes } from './joins/requests.routes';
import { inboxRoutes } from './invitations/inbox.routes';
import { deepHealth } from './health';
import { deploymentProblem, logDeploymentProblemOnce } from './lib/deployment';

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The pages' copy of `x-d1-bookmark` (a browser sends cookies back, not headers); `__Host-` over
 * https, so no other subdomain can plant one.
 */
const bookmarkCookie = (appUrl: string) => (appUrl.startsWith('https://') ? '__Host-8b_d1_bookmark' : '8b_d1_bookmark');

/**
 * Request id, the per-request drizzle client, and one JSON log line per request. The line names
 * the matched route pattern, never the URL: query strings and bodies may carry tokens, and
 * cookies and Authorization are never read into it.
 */
const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const incoming = c.req.header('X-Request-Id');
  const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : `req_${randomString(16)}`;
  c.set('requestId', requestId);
  // Reads may come from a nearby replica, from the state of the client's bookmark on (header, or
  // the pages' cookie). A request that writes starts on the primary, whatever it was sent: its
  // authorization is never read from a replica.
  const reads = c.req.method === 'GET' || c.req.method === 'HEAD';
  const page = !c.req.path.startsWith('/v1/');
  const cookieName = bookmarkCookie(c.env.APP_URL);
  const sent = c.req.header(BOOKMARK_HEADER) ?? (page ? getCookie(c, cookieName) : undefined);
  const session = openSession(c.env.DB, reads ? 'first-unconstrained' : 'first-primary', reads ? sent : undefined);
  c.set('db', session.db);
  await next();
  const line = JSON.stringify({
    event: 'request',
    request_id: requestId,
    method: c.req.method,
    route: c.req.routePath,
    status: c.res.status,
    duration_ms: Date.now() - started,
    org_id: c.get('orgId') ?? null,
  });
  logAfterResponse(c, line);
  const bookmark = newestBookmark(session.bookmark(), c.get('writeBookmark'));
  if (bookmark) {
    c.header(BOOKMARK_HEADER, bookmark);
    // A page that wrote (a form post, or a signed-in invitee's GET of an invitation link) is
    // followed by a page load: the browser carries the bookmark there.
    if (page && (!reads || c.get('writeBookmark'))) {
      const secure = c.env.APP_URL.startsWith('https://');
      setCookie(c, cookieName, bookmark, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: 300 });
    }
  }
  c.header('X-Request-Id', requestId);
  c.header('X-Content-Type-Options', 'nosniff');
  // Pages and API answers are per-user and may carry secrets (session and API tokens): never
  // cached by a browser or a proxy (SPEC §14). Only the static assets set their own caching.
  if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  c.header('Referrer-Policy', 'no-referrer');
});

/**
 * Writes the request's log line once its response is on the way (a timer inside `waitUntil`):
 * measured under `wrangler dev`, writing it before answering added about 2 ms to every request.
 */
function logAfterResponse(c: Context<AppEnv>, line: string) {
  let ctx: Pick<ExecutionContext, 'waitUntil'> | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // No execution context (a bare `app.request` in a test): write it now.
  }
  if (ctx) ctx.waitUntil(scheduler.wait(0).then(() => console.log(line)));
  else console.log(line);
}

/** HTTP errors raised by Hono or its validators, mapped onto the catalog. */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_json',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export const app = createRouter();

app.use('*', requestContext);
/**
 * Deep health (SPEC §15) answers before the deployment guard, so a misconfiguration is named as one
 * of its checks: 200 when every check holds, else 503 with `ok: false`. `email`, `email_transport`,
 * `email_problem` and `delivery_queue` repeat what SPEC §10 first gave, for monitors that read them.
 */
app.get('/healthz', async (c, next) => {
  if (c.req.query('deep') !== '1') return next();
  const { ok, checks } = await deepHealth(c.env, c.var.db, c.req.url);
  return c.json(
    {
      ok,
      checks,
      email: checks.email.ok ? 'ok' : 'misconfigured',
      email_transport: checks.email.transport ?? null,
      ...(checks.email.ok ? {} : { email_problem: checks.email.problem }),
      delivery_queue: checks.delivery_queue.ok ? 'ok' : 'missing',
    },
    ok ? 200 : 503,
  );
});
/** Deployment guards (SPEC §14): 503 `misconfigured` for every request until the settings are fixed. */
app.use('*', async (c, next) => {
  const problem = deploymentProblem(c.env, c.req.url);
  if (!problem) return next();
  logDeploymentProblemOnce(problem);
  throw new ApiError('misconfigured', problem);
});
app.use(
  '/v1/*',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError('payload_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    },
  }),
);

/** Liveness: a cheap 200 when the Worker and D1 answer (and the deployment guard lets it serve). */
app.get('/healthz', async (c) => {
  await c.var.db.run(sql`SELECT 1`);
  return c.json({ ok: true });
});

app.route('/v1/auth', authRoutes);
app.route('/v1/me', meRoutes);
app.route('/v1/organizations', organizationRoutes);
app.route('/v1/organizations', invitationRoutes);
app.route('/v1/organizations', auditRoutes);
app.route('/v1/organizations', webhookRoutes);
app.route('/v1/organizations', inviteLinkRoutes);
app.route('/v1/organizations', domainRoutes);
app.route('/v1/organizations', joinRequestRoutes);
app.route('/v1/me', suggestionRoutes);
app.route('/v1/me', myJoinRequestRoutes);
app.route('/v1/me', inboxRoutes);
app.route('/v1/join', joinRoutes);
app.route('/v1/invitations', acceptanceRoutes);
app.route('/v1/email-events', emailEventRoutes);

// The API reference (its own CSP; its script is a static asset of this Worker).
app.get('/docs', docsPage);
app.route('/', pages);

app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  description: 'A session token (8b_ses_…) or a personal API token (8b_pat_…)',
});
app.doc31('/openapi.json', (c) => ({
  openapi: '3.1.0',
  info: {
    title: '8bit-ai Invitations API',
    version: '1.0.0',
    description:
      'Invite people to an organization by email with a role, and let them join through a single-use emailed link. ' +
      'Errors are RFC 9457 problem details with a stable `code`. A reference page is served at `/docs`. ' +
      'Responses carry `x-d1-bookmark`; send it back as a request header to read at least that state (your own writes) when reads are served by D1 read replicas.',
    license: { name: 'Proprietary', url: `${c.env.APP_URL}/docs` },
    contact: { name: '8bit-ai', url: c.env.APP_URL },
  },
  servers: [{ url: c.env.APP_URL, description: 'This deployment (APP_URL)' }],
  tags: [
    { name: 'auth', description: 'Sign in with an emailed link; sign out one or every session.' },
    { name: 'me', description: 'The signed-in user, their personal API tokens and their sessions.' },
    { name: 'organizations', description: 'Organizations and their members.' },
    {
      name: 'invitations',
      description: 'Invite by email with a role; list, change, resend and revoke (owners and admins).',
    },
    { name: 'acceptance', description: 'What an invitation link offers, and accepting it.' },
    {
      name: 'invite-links',
      description: 'Shareable invite links with a role, a use cap and an expiry (owners/admins), and redeeming one.',
    },
    { name: 'domains', description: 'Verified email domains (DNS TXT) and joining an organization by its domain.' },
    {
      name: 'join-requests',
      description: 'Requests to join from a link or a domain: decided by owners/admins, withdrawn by the requester.',
    },
    { name: 'audit', description: "An organization's audit log." },
    { name: 'webhooks', description: 'Signed lifecycle events (Standard Webhooks) for integrators.' },
    { name: 'email-events', description: "The email provider's delivery events (bounces, complaints)." },
  ],
}));

app.notFound((c) =>
  problemResponse(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`), c.var.requestId),
);

app.onError((err, c) => {
  const requestId = c.var.requestId;
  if (requestId) c.header('X-Request-Id', requestId);
  if (err instanceof ApiError) return problemResponse(c, err, requestId);
  if (err instanceof HTTPException && err.status < 500) {
    const code = HTTP_STATUS_CODES[err.status] ?? 'validation_failed';
    const detail = code === 'invalid_json' ? 'The request body is not valid JSON.' : err.message;
    return problemResponse(c, new ApiError(code, detail), requestId);
  }
  // The route pattern, not the path (paths are fine, but one rule for every log line), and the
  // error through the one redaction function: no tokens, no bound parameters.
  console.error(
    JSON.stringify({
      event: 'unhandled_error',
      request_id: requestId,
      route: c.req.routePath,
      error: errorMessage(err),
      stack: errorStack(err),
    }),
  );
  return problemResponse(
    c,
    new ApiError('internal_error', 'Something went wrong on our side. Quote the request id if you contact support.'),
    requestId,
  );
});
