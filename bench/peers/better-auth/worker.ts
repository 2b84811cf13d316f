// The benchmark's peer: better-auth's organization plugin on the same runtime as the product
// (workerd + local D1), with the same invitation limit (10 pending per organization) and an
// invitation email sent through the same `send_email` binding as a mimetext multipart message.
// Never deployed; `bench/run.mjs` starts it with `wrangler dev` on 127.0.0.1:8792.
//
// Endpoints (better-auth's own, under /api/auth): sign-up/email, organization/create,
// organization/invite-member, organization/list-invitations (and the rest of its organization
// plugin); plus GET /healthz. With `COUNT_D1=1` (bench/peer-calls.mjs only) every D1 call is
// recorded per request and the last request's calls are at GET /__d1-calls (count-d1.ts).
import { betterAuth } from 'better-auth';
import { bearer, organization } from 'better-auth/plugins';
import { EmailMessage } from 'cloudflare:email';
import { createMimeMessage } from 'mimetext';
import { counted, countingD1, lastLog } from './count-d1';

interface PeerEnv {
  DB: D1Database;
  EMAIL: SendEmail;
  BETTER_AUTH_SECRET: string;
  BETTER_AUTH_URL: string;
  EMAIL_FROM: string;
  /** "1": record every D1 call per request (bench/peer-calls.mjs only; see count-d1.ts). */
  COUNT_D1?: string;
}

/** The same invitation limit as the product (SPEC: 10 pending invitations per organization). */
const INVITATION_LIMIT = 10;

function createAuth(env: PeerEnv) {
  return betterAuth({
    baseURL: env.BETTER_AUTH_URL,
    secret: env.BETTER_AUTH_SECRET,
    // A D1 binding is taken as it is: better-auth's Kysely adapter recognizes it (it has
    // prepare/batch/exec) and uses its built-in D1 dialect. The schema is migrations/0000_*.sql.
    database: env.DB,
    // Sign-up only bootstraps the benchmark's owner; better-auth's limiter would refuse the load.
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: [
      // `Authorization: Bearer <session token>` (the token comes back in `set-auth-token`).
      bearer(),
      organization({
        invitationLimit: INVITATION_LIMIT,
        // Awaited inside the invite request (better-auth awaits it unless a background handler is set).
        async sendInvitationEmail(data) {
          const link = `${env.BETTER_AUTH_URL}/accept-invitation/${data.id}`;
          const inviter = data.inviter.user.name || data.inviter.user.email;
          const msg = createMimeMessage();
          msg.setSender({ name: 'Invitations', addr: env.EMAIL_FROM });
          msg.setRecipient(data.email);
          msg.setSubject(`${inviter} invited you to ${data.organization.name}`);
          msg.addMessage({
            contentType: 'text/plain',
            data: `${inviter} invited you to join ${data.organization.name} as ${data.role}.\n\nAccept: ${link}\n`,
          });
          msg.addMessage({
            contentType: 'text/html',
            data: `<p>${escapeHtml(inviter)} invited you to join <b>${escapeHtml(data.organization.name)}</b> as ${escapeHtml(data.role)}.</p><p><a href="${link}">Accept the invitation</a></p>`,
          });
          await env.EMAIL.send(new EmailMessage(env.EMAIL_FROM, data.email, msg.asRaw()));
        },
      }),
    ],
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// One instance per isolate: the bindings (`env`) are the same object for the isolate's life, and
// building the instance (plugins, endpoints, schema) on every request would be measured too.
let auth: ReturnType<typeof createAuth> | undefined;

export default {
  async fetch(request: Request, env: PeerEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return new Response('ok');
    const counting = env.COUNT_D1 === '1';
    if (counting && url.pathname === '/__d1-calls') return Response.json(lastLog());
    if (url.pathname.startsWith('/api/auth/')) {
      auth ??= createAuth(counting ? { ...env, DB: countingD1(env.DB) } : env);
      const instance = auth;
      return counting ? counted(url.pathname, () => instance.handler(request)) : instance.handler(request);
    }
    return new Response('not found', { status: 404 });
  },
} satisfies ExportedHandler<PeerEnv>;
