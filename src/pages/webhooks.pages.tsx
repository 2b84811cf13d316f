import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import type { AppEnv, AuthUser } from '../env';
import { WEBHOOK_EVENT_TYPES } from '../db/schema';
import { ApiError } from '../errors';
import { actorOf } from '../lib/request';
import { handOffWebhooks } from '../delivery/producer';
import { organizationsOf, requireMembership } from '../organizations/organizations.store';
import { CreateWebhookBody } from '../webhooks/webhooks.schemas';
import {
  findEndpoint,
  listAttempts,
  listEndpoints,
  toWebhookResource,
  type WebhookResource,
} from '../webhooks/webhooks.store';
import {
  createEndpoint,
  deleteEndpoint,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from '../webhooks/webhooks.service';
import { refuseCsrf } from './auth.pages';
import { CsrfField, Layout, MessagePage, SettingsTabs, type OrgLink } from './layout';
import { csrfValid, pageUser } from './pages.middleware';

type Ctx = Context<AppEnv>;
type Attempt = Awaited<ReturnType<typeof listAttempts>>['data'][number];

const SELECTABLE = WEBHOOK_EVENT_TYPES.filter((t) => t !== 'webhook.test');
const NOTICES: Record<string, string> = {
  tested: 'Test event sent. Reload in a moment to see the delivery.',
  enabled: 'Endpoint enabled.',
  disabled: 'Endpoint disabled. It receives nothing until enabled again.',
  deleted: 'Endpoint deleted. Its queued events were dropped.',
  saved: 'Endpoint saved.',
};
const when = (iso: string | null) =>
  iso
    ? `${new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' })} UTC`
    : '—';

const EventChoices: FC<{ idPrefix: string; selected: readonly string[] }> = ({ idPrefix, selected }) => (
  <fieldset class="events">
    <legend class="sr-only">Events</legend>
    {SELECTABLE.map((t) => (
      <label for={`${idPrefix}-${t}`}>
        <input type="checkbox" id={`${idPrefix}-${t}`} name="events" value={t} checked={selected.includes(t)} />{' '}
        <span class="mono">{t}</span>
      </label>
    ))}
  </fieldset>
);

const SecretOnce: FC<{ secret: string; url: string }> = ({ secret, url }) => (
  <section class="card" aria-labelledby="secret-title">
    <div class="card-body stack">
      <h2 id="secret-title">Signing secret for {url}</h2>
      <p class="muted small">
        Copy it now: it is shown only this once. Verify each delivery's <span class="mono">webhook-signature</span> with
        it (any Standard Webhooks library does).
      </p>
      <div class="secret">
        <input id="new-secret" type="text" readonly value={secret} aria-label="Signing secret" />
        <button class="btn" type="button" data-copy="new-secret">
          Copy
        </button>
      </div>
    </div>
  </section>
);

const EndpointCard: FC<{ slug: string; w: WebhookResource; attempts: Attempt[]; csrf?: string }> = ({
  slug,
  w,
  attempts,
  csrf,
}) => {
  const base = `/orgs/${slug}/settings/webhooks/${w.id}`;
  const all = w.events.length === WEBHOOK_EVENT_TYPES.length;
  return (
    <section class="card" data-webhook={w.url}>
      <div class="card-head">
        <div>
          <h2 class="mono">{w.url}</h2>
          <div class="muted small">
            {w.description ? `${w.description} · ` : ''}
            {all ? 'All events' : w.events.join(', ')}
          </div>
          {w.disabled_reason ? <div class="field-error">{w.disabled_reason}</div> : null}
        </div>
        <div class="actions">
          <span class={`badge ${w.enabled ? 'delivered' : 'failed'}`}>{w.enabled ? 'enabled' : 'disabled'}</span>
          {w.enabled ? (
            <form method="post" action={`${base}/test`}>
              <CsrfField token={csrf} />
              <button class="btn small" type="submit" aria-label={`Send a test event to ${w.url}`}>
                Send test
              </button>
            </form>
          ) : null}
          <form method="post" action={`${base}/toggle`}>
            <CsrfField token={csrf} />
            <button class="btn small" type="submit">
              {w.enabled ? 'Disable' : 'Enable'}
            </button>
          </form>
          <form
            method="post"
            action={`${base}/rotate`}
            data-confirm="Rotate the signing secret? The old one keeps signing for 24 hours."
          >
            <CsrfField token={csrf} />
            <button class="btn small" type="submit">
              Rotate secret
            </button>
          </form>
          <form
            method="post"
            action={`${base}/delete`}
            data-confirm={`Delete the endpoint ${w.url}? Its queued events are dropped.`}
          >
            <CsrfField token={csrf} />
            <button class="btn small danger" type="submit">
              Delete
            </button>
          </form>
        </div>
      </div>
      <details class="invite-panel">
        <summary class="card-body">
          <span class="btn small">Edit</span>
        </summary>
        <form method="post" action={`${base}/edit`} class="card-body">
          <CsrfField token={csrf} />
          <div class="field">
            <label for={`url-${w.id}`}>Endpoint URL</label>
            <input id={`url-${w.id}`} name="url" type="text" required maxlength={2048} value={w.url} />
          </div>
          <div class="field">
            <label for={`desc-${w.id}`}>
              Description <span class="hint">(optional)</span>
            </label>
            <input id={`desc-${w.id}`} name="description" type="text" maxlength={200} value={w.description ?? ''} />
          </div>
          <div class="field">
            <span class="label-like">
              <strong>Events</strong>
            </span>
            <EventChoices idPrefix={`ev-${w.id}`} selected={w.events} />
          </div>
          <button class="btn primary" type="submit">
            Save
          </button>
        </form>
      </details>
      <div class="table-wrap">
        {attempts.length ? (
          <table aria-label={`Recent deliveries to ${w.url}`}>
            <thead>
              <tr>
                <th>Event</th>
                <th>Attempt</th>
                <th>Status</th>
                <th>Latency</th>
                <th>Sent</th>
                <th>Next retry</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((a) => (
                <tr data-attempt={a.id}>
                  <td class="mono">{a.event_type}</td>
                  <td>{a.attempt}</td>
                  <td>
                    <span class={`badge ${a.error ? 'failed' : 'delivered'}`}>{a.status_code ?? 'no answer'}</span>
                    {a.error ? <div class="muted small">{a.error}</div> : null}
                  </td>
                  <td class="nowrap">{a.duration_ms} ms</td>
                  <td class="muted small nowrap">{when(a.created_at)}</td>
                  <td class="muted small nowrap">{a.next_attempt_at ? when(a.next_attempt_at) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div class="card-body muted small">No deliveries yet.</div>
        )}
      </div>
    </section>
  );
};

interface ViewProps {
  user: AuthUser;
  orgs: OrgLink[];
  org: { name: string; slug: string };
  csrf?: string;
  endpoints: { w: WebhookResource; attempts: Attempt[] }[];
  notice?: string;
  error?: string;
  secret?: { secret: string; url: string };
  typed?: { url: string; description: string; events: string[] };
}

const WebhooksView: FC<{ p: ViewProps }> = ({ p }) => (
  <Layout title={`Webhooks · ${p.org.name}`} user={p.user} orgs={p.orgs} current={p.org.slug} csrf={p.csrf}>
    <h1>Webhooks</h1>
    <p class="sub">
      Signed events (Standard Webhooks) for <strong>{p.org.name}</strong>: invitations and members as they change.
    </p>
    <SettingsTabs slug={p.org.slug} current="webhooks" />
    {p.notice ? (
      <div class="alert notice" role="status">
        {p.notice}
      </div>
    ) : null}
    {p.error ? (
      <div class="alert error" role="alert">
        {p.error}
      </div>
    ) : null}
    {p.secret ? <SecretOnce secret={p.secret.secret} url={p.secret.url} /> : null}
    {p.endpoints.map(({ w, attempts }) => (
      <EndpointCard slug={p.org.slug} w={w} attempts={attempts} csrf={p.csrf} />
    ))}
    <section class="card" aria-labelledby="add-title">
      <div class="card-head">
        <h2 id="add-title">Add an endpoint</h2>
        <span class="capacity">{p.endpoints.length} of 10</span>
      </div>
      <form method="post" action={`/orgs/${p.org.slug}/settings/webhooks`} class="card-body">
        <CsrfField token={p.csrf} />
        <div class="field">
          <label for="webhook-url">Endpoint URL</label>
          <input
            id="webhook-url"
            name="url"
            type="text"
            required
            maxlength={2048}
            placeholder="https://example.com/webhooks/8bit-ai"
            value={p.typed?.url ?? ''}
          />
        </div>
        <div class="field">
          <label for="webhook-description">
            Description <span class="hint">(optional)</span>
          </label>
          <input
            id="webhook-description"
            name="description"
            type="text"
            maxlength={200}
            value={p.typed?.description ?? ''}
          />
        </div>
        <div class="field">
          <strong>Events</strong>
          <EventChoices idPrefix="new" selected={p.typed?.events ?? SELECTABLE} />
        </div>
        <button class="btn primary" type="submit">
          Add endpoint
        </button>
      </form>
    </section>
  </Layout>
);

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
