import type { FC } from 'hono/jsx';
import type { AuthUser } from '../env';
import { WEBHOOK_EVENT_TYPES } from '../db/schema';
import type { listAttempts, WebhookResource } from '../webhooks/webhooks.store';
import { CsrfField, Layout, SettingsTabs, type OrgLink, TableHead, Alerts } from './layout';

type Attempt = Awaited<ReturnType<typeof listAttempts>>['data'][number];

export const SELECTABLE = WEBHOOK_EVENT_TYPES.filter((t) => t !== 'webhook.test');
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
            <TableHead columns={['Event', 'Attempt', 'Status', 'Latency', 'Sent', 'Next retry']} />
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

export interface ViewProps {
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

export const WebhooksView: FC<{ p: ViewProps }> = ({ p }) => (
  <Layout title={`Webhooks · ${p.org.name}`} user={p.user} orgs={p.orgs} current={p.org.slug} csrf={p.csrf}>
    <h1>Webhooks</h1>
    <p class="sub">
      Signed events (Standard Webhooks) for <strong>{p.org.name}</strong>: invitations and members as they change.
    </p>
    <SettingsTabs slug={p.org.slug} current="webhooks" />
    <Alerts notice={p.notice} error={p.error} />
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
