import { Hono, type Context } from 'hono';
import type { AppEnv, AuthUser } from '../env';
import { ApiError } from '../errors';
import { actorOf } from '../lib/request';
import { handOffWebhooks } from '../delivery/producer';
import { organizationsOf, requireMembership } from '../organizations/organizations.store';
import { CreateWebhookBody } from '../webhooks/webhooks.schemas';
import { findEndpoint, listAttempts, listEndpoints, toWebhookResource } from '../webhooks/webhooks.store';
import {
  createEndpoint,
  deleteEndpoint,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from '../webhooks/webhooks.service';
import { refuseCsrf } from './auth.pages';
import { MessagePage } from './layout';
import { csrfValid, pageUser } from './pages.middleware';
import { SELECTABLE, WebhooksView, type ViewProps } from './webhooks.view';

type Ctx = Context<AppEnv>;

const NOTICES: Record<string, string> = {
  tested: 'Test event sent. Reload in a moment to see the delivery.',
  enabled: 'Endpoint enabled.',
  disabled: 'Endpoint disabled. It receives nothing until enabled again.',
  deleted: 'Endpoint deleted. Its queued events were dropped.',
  saved: 'Endpoint saved.',
};

/** The signed-in manager of `:slug`, or the response to send instead. */
async function manager(c: Ctx) {
  const user = await pageUser(c);
  if (!user) return c.redirect('/sign-in', 303);
  const slug = c.req.param('slug') ?? '';
  let membership: Awaited<ReturnType<typeof requireMembership>>;
  try {
    membership = await requireMembership(c.var.db, slug, user.id);
  } catch {
    return c.html(
      <MessagePage title="Not found" heading="Page not found" user={user} csrf={c.var.csrf}>
        <p>This organization does not exist, or you are not a member of it.</p>
      </MessagePage>,
      404,
    );
  }
  // Other members keep the read-only Team page.
  if (membership.role !== 'owner' && membership.role !== 'admin')
    return c.redirect(`/orgs/${membership.org.slug}/settings/team`, 303);
  return { user, org: membership.org };
}

async function render(
  c: Ctx,
  m: { user: AuthUser; org: { id: string; name: string; slug: string } },
  extra: Partial<ViewProps> = {},
  status: 200 | 400 | 409 | 429 = 200,
) {
  const rows = await listEndpoints(c.var.db, m.org.id);
  const endpoints = await Promise.all(
    rows.map(async (r) => ({
      w: toWebhookResource(r),
      attempts: (await listAttempts(c.var.db, r.id, { limit: 10 })).data,
    })),
  );
  const notice = c.req.query('notice');
  return c.html(
    <WebhooksView
      p={{
        user: m.user,
        orgs: await organizationsOf(c.var.db, m.user.id),
        org: m.org,
        csrf: c.var.csrf,
        endpoints,
        notice: notice && Object.hasOwn(NOTICES, notice) ? NOTICES[notice] : undefined,
        ...extra,
      }}
    />,
    status,
  );
}

/** A form with repeated `events` checkboxes (the shared reader keeps single values only). */
async function webhookForm(c: Ctx) {
  let body: Record<string, string | File | (string | File)[]>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    return null;
  }
  const one = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  const events = ([] as unknown[]).concat(body.events ?? []).filter((e): e is string => typeof e === 'string');
  return { _csrf: one('_csrf'), url: one('url'), description: one('description'), events };
}

const ctxOf = (c: Ctx, m: { user: AuthUser; org: { id: string } }) => ({
  env: c.env,
  db: c.var.db,
  organizationId: m.org.id,
  actor: actorOf(c, m.user.id),
  now: Date.now(),
});

/** Runs an endpoint action and goes back with a notice, or shows the page with the error. */
async function act(
  c: Ctx,
  run: (
    m: { user: AuthUser; org: { id: string; name: string; slug: string } },
    form: NonNullable<Awaited<ReturnType<typeof webhookForm>>>,
  ) => Promise<string | Response>,
) {
  const m = await manager(c);
  if (m instanceof Response) return m;
  const form = await webhookForm(c);
  if (!form || !csrfValid(c, form)) return refuseCsrf(c);
  try {
    const result = await run(m, form);
    if (result instanceof Response) return result;
    return c.redirect(`/orgs/${m.org.slug}/settings/webhooks?notice=${result}`, 303);
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) {
      // A limit (SPEC §18: test events and redeliveries) says so, and when to try again.
      if (err.status === 429) {
        for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
        return render(c, m, { error: err.detail }, 429);
      }
      return render(c, m, { error: err.detail }, err.status === 409 ? 409 : 400);
    }
    throw err;
  }
}

const endpointOf = async (c: Ctx, orgId: string) => {
  const row = await findEndpoint(c.var.db, orgId, c.req.param('id') ?? '');
  if (!row) throw new ApiError('not_found', 'That endpoint no longer exists.');
  return row;
};

export const webhookPages = new Hono<AppEnv>()
  .get('/orgs/:slug/settings/webhooks', async (c) => {
    const m = await manager(c);
    return m instanceof Response ? m : render(c, m);
  })
  .post('/orgs/:slug/settings/webhooks', async (c) => {
    const m = await manager(c);
    if (m instanceof Response) return m;
    const form = await webhookForm(c);
    if (!form || !csrfValid(c, form)) return refuseCsrf(c);
    const typed = { url: form.url, description: form.description, events: form.events };
    // The API's own schema; every event checked means "all" (new types included).
    const parsed = CreateWebhookBody.safeParse({
      url: form.url,
      description: form.description || undefined,
      events: form.events.length ? form.events : undefined,
    });
    if (!parsed.success || form.events.length === 0) {
      return render(
        c,
        m,
        {
          typed,
          error:
            form.events.length === 0
              ? 'Choose at least one event.'
              : 'Enter the endpoint URL (https://…, up to 2048 characters) and a description of up to 200 characters.',
        },
        400,
      );
    }
    try {
      const row = await createEndpoint(ctxOf(c, m), {
        ...parsed.data,
        events: form.events.length === SELECTABLE.length ? undefined : parsed.data.events,
      });
      return render(c, m, { notice: 'Endpoint added.', secret: { secret: row.secret, url: row.url } });
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) return render(c, m, { typed, error: err.detail }, 400);
      throw err;
    }
  })
  .post('/orgs/:slug/settings/webhooks/:id/edit', (c) =>
    act(c, async (m, form) => {
      const events = form.events.length === SELECTABLE.length ? null : form.events;
      if (events && events.length === 0) throw new ApiError('validation_failed', 'Choose at least one event.');
      const parsed = CreateWebhookBody.safeParse({
        url: form.url,
        description: form.description || undefined,
        events: events ?? undefined,
      });
      if (!parsed.success)
        throw new ApiError(
          'validation_failed',
          'Enter the endpoint URL (https://…) and a description of up to 200 characters.',
        );
      await updateEndpoint(ctxOf(c, m), (await endpointOf(c, m.org.id)).id, {
        url: parsed.data.url,
        description: parsed.data.description ?? null,
        events,
      });
      return 'saved';
    }),
  )
  .post('/orgs/:slug/settings/webhooks/:id/toggle', (c) =>
    act(c, async (m) => {
      const row = await endpointOf(c, m.org.id);
      await updateEndpoint(ctxOf(c, m), row.id, { enabled: row.enabled !== 1 });
      return row.enabled === 1 ? 'disabled' : 'enabled';
    }),
  )
  .post('/orgs/:slug/settings/webhooks/:id/test', (c) =>
    act(c, async (m) => {
      const id = await sendTestEvent(ctxOf(c, m), (await endpointOf(c, m.org.id)).id);
      c.executionCtx.waitUntil(handOffWebhooks(c.env, [id]));
      return 'tested';
    }),
  )
  .post('/orgs/:slug/settings/webhooks/:id/rotate', (c) =>
    act(c, async (m) => {
      const row = await endpointOf(c, m.org.id);
      const secret = await rotateSecret(ctxOf(c, m), row.id);
      return render(c, m, {
        notice: 'Secret rotated. The old secret keeps signing for 24 hours.',
        secret: { secret, url: row.url },
      });
    }),
  )
  .post('/orgs/:slug/settings/webhooks/:id/delete', (c) =>
    act(c, async (m) => {
      await deleteEndpoint(ctxOf(c, m), (await endpointOf(c, m.org.id)).id);
      return 'deleted';
    }),
  );
