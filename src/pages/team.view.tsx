import { ROLES } from '../db/schema';
import type { FC } from 'hono/jsx';
import type { AuthUser } from '../env';
import type { InvitationResource } from '../invitations/invitations.store';
import { Badge, CsrfField, Layout, type OrgLink, SettingsTabs } from './layout';

export const ROLE_OPTIONS = ROLES;

export interface InviteFormState {
  values: { email: string; role: string; message: string; expires_in_days: string };
  errors: Partial<Record<'email' | 'role' | 'message' | 'expires_in_days' | 'form', string>>;
}

export interface TeamViewProps {
  user: AuthUser;
  orgs: OrgLink[];
  org: { id: string; name: string; slug: string };
  role: string;
  csrf?: string;
  members: { user_id: string; email: string; name: string; role: string; joined_at: string }[];
  invitations: InvitationResource[];
  pending: number;
  limit: number;
  notice?: string;
  error?: string;
  invite?: InviteFormState;
  /** Organization settings (SPEC §12): allowed email domains and the default locale. */
  settings?: { domains: string[]; defaultLocale: string; error?: string; typedDomains?: string };
  /** After inviting several addresses at once: each address and what happened to it. */
  bulkResults?: { email: string; sent: boolean; reason?: string }[];
}

const day = (iso: string | null) =>
  iso
    ? new Date(iso).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })
    : '—';

const FieldError: FC<{ id: string; message?: string }> = ({ id, message }) =>
  message ? (
    <div class="field-error" id={id}>
      {message}
    </div>
  ) : null;

const InviteForm: FC<{ p: TeamViewProps }> = ({ p }) => {
  const state = p.invite ?? { values: { email: '', role: 'developer', message: '', expires_in_days: '7' }, errors: {} };
  const roles = ROLE_OPTIONS.filter((r) => r !== 'owner' || p.role === 'owner');
  const err = state.errors;
  return (
    <details class="invite-panel" id="invite" open={p.invite ? true : undefined}>
      <summary class="card-body">
        <span class="btn primary">+ Invite Member</span>
      </summary>
      <form
        method="post"
        action={`/orgs/${p.org.slug}/settings/team/invitations`}
        class="card-body"
        aria-label="Invite a member"
        novalidate
      >
        <CsrfField token={p.csrf} />
        {err.form ? (
          <div class="alert error" role="alert">
            {err.form}
          </div>
        ) : null}
        {p.bulkResults ? (
          <div class="alert notice" role="status" aria-label="Invitation results">
            <ul class="bulk-results">
              {p.bulkResults.map((r) => (
                <li data-result={r.sent ? 'sent' : 'not-sent'}>
                  <strong>{r.email}</strong>: {r.sent ? 'invitation sent.' : `not sent. ${r.reason ?? ''}`}
                </li>
              ))}
            </ul>
            {p.bulkResults.some((r) => !r.sent) ? (
              <p class="small">
                The addresses that were not sent are still in the field: fix them and press Send again.
              </p>
            ) : null}
          </div>
        ) : null}
        <div class="row">
          <div class="field">
            <label for="invite-email">
              Email addresses <span class="hint">(one, or several separated by commas, spaces or lines)</span>
            </label>
            <textarea
              id="invite-email"
              name="email"
              required
              maxlength={50 * 256}
              rows={2}
              placeholder="name@company.com"
              aria-invalid={err.email ? 'true' : undefined}
              aria-describedby="invite-email-error"
            >
              {state.values.email}
            </textarea>
            <FieldError id="invite-email-error" message={err.email} />
          </div>
          <div class="field">
            <label for="invite-role">Role</label>
            <select id="invite-role" name="role" aria-invalid={err.role ? 'true' : undefined}>
              {roles.map((r) => (
                <option value={r} selected={state.values.role === r}>
                  {r[0].toUpperCase() + r.slice(1)}
                </option>
              ))}
            </select>
            <FieldError id="invite-role-error" message={err.role} />
          </div>
          <div class="field">
            <label for="invite-days">Expires in (days)</label>
            <input
              id="invite-days"
              name="expires_in_days"
              type="number"
              min={1}
              max={30}
              step={1}
              required
              value={state.values.expires_in_days}
              aria-invalid={err.expires_in_days ? 'true' : undefined}
              aria-describedby="invite-days-error"
            />
            <FieldError id="invite-days-error" message={err.expires_in_days} />
          </div>
        </div>
        <div class="field">
          <label for="invite-message">
            Personal message <span class="hint">(optional, up to 1000 characters)</span>
          </label>
          <textarea
            id="invite-message"
            name="message"
            maxlength={1000}
            aria-invalid={err.message ? 'true' : undefined}
            aria-describedby="invite-message-error"
          >
            {state.values.message}
          </textarea>
          <FieldError id="invite-message-error" message={err.message} />
        </div>
        <button class="btn primary" type="submit">
          Send Invitation
        </button>
      </form>
    </details>
  );
};

const MemberRow: FC<{ p: TeamViewProps; m: TeamViewProps['members'][number] }> = ({ p, m }) => {
  const manager = p.role === 'owner' || p.role === 'admin';
  const canEdit = manager && (p.role === 'owner' || m.role !== 'owner');
  const self = m.user_id === p.user.id;
  const base = `/orgs/${p.org.slug}/settings/team/members/${m.user_id}`;
  return (
    <tr>
      <td>
        <strong>{m.name}</strong> {self ? <span class="muted small">(you)</span> : null}
        <div class="muted small">{m.email}</div>
      </td>
      <td>
        {canEdit ? (
          <form method="post" action={`${base}/role`} class="inline-select">
            <CsrfField token={p.csrf} />
            <select id={`role-${m.user_id}`} name="role" aria-label={`Role of ${m.name}`}>
              {ROLE_OPTIONS.filter((r) => r !== 'owner' || p.role === 'owner').map((r) => (
                <option value={r} selected={m.role === r}>
                  {r}
                </option>
              ))}
            </select>
            <button class="btn small" type="submit">
              Save
            </button>
          </form>
        ) : (
          <Badge value={m.role} />
        )}
      </td>
      <td class="muted small nowrap">{day(m.joined_at)}</td>
      <td>
        {canEdit || self ? (
          <div class="actions">
            <form
              method="post"
              action={`${base}/remove`}
              data-confirm={self ? 'Leave this organization?' : `Remove ${m.name}?`}
            >
              <CsrfField token={p.csrf} />
              <button class="btn small danger" type="submit">
                {self ? 'Leave' : 'Remove'}
              </button>
            </form>
          </div>
        ) : null}
      </td>
    </tr>
  );
};

const InvitationRow: FC<{ p: TeamViewProps; i: InvitationResource }> = ({ p, i }) => {
  const base = `/orgs/${p.org.slug}/settings/team/invitations/${i.id}`;
  return (
    <tr data-invitation={i.email}>
      <td>{i.email}</td>
      <td>
        <Badge value={i.role} />
      </td>
      <td>
        <Badge value={i.status} />
      </td>
      <td class="muted small nowrap">{i.status === 'pending' || i.status === 'expired' ? day(i.expires_at) : '—'}</td>
      <td class="small nowrap">{i.invited_by.name ?? '—'}</td>
      <td>
        <Badge value={i.email_delivery} />
        {i.email_delivery_detail && i.email_delivery !== 'sent' && i.email_delivery !== 'delivered' ? (
          <div class="muted small delivery-detail">{i.email_delivery_detail}</div>
        ) : null}
      </td>
      <td>
        <div class="actions">
          {i.status === 'pending' || i.status === 'expired' ? (
            <form method="post" action={`${base}/resend`}>
              <CsrfField token={p.csrf} />
              <button class="btn small" type="submit" aria-label={`Resend invitation to ${i.email}`}>
                Resend
              </button>
            </form>
          ) : null}
          {i.status === 'pending' ? (
            <form
              method="post"
              action={`${base}/revoke`}
              data-confirm={`Revoke the invitation to ${i.email}? Its link stops working at once.`}
            >
              <CsrfField token={p.csrf} />
              <button class="btn small danger" type="submit" aria-label={`Revoke invitation to ${i.email}`}>
                Revoke
              </button>
            </form>
          ) : null}
        </div>
      </td>
    </tr>
  );
};

const LOCALE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'Deutsch',
  fr: 'Français',
  es: 'Español',
  ja: '日本語',
  'pt-BR': 'Português (Brasil)',
};

/** Allowed email domains and the default language of invitations: owners edit, admins read. */
const OrganizationSettings: FC<{ p: TeamViewProps }> = ({ p }) => {
  const s = p.settings!;
  const owner = p.role === 'owner';
  return (
    <section class="card" aria-labelledby="org-settings-title">
      <div class="card-head">
        <h2 id="org-settings-title">Organization settings</h2>
        {owner ? null : <span class="capacity">Only owners can change these.</span>}
      </div>
      {owner ? (
        <form method="post" action={`/orgs/${p.org.slug}/settings/organization`} class="card-body">
          <CsrfField token={p.csrf} />
          {s.error ? (
            <div class="alert error" role="alert">
              {s.error}
            </div>
          ) : null}
          <div class="field">
            <label for="org-domains">
              Allowed email domains{' '}
              <span class="hint">
                (one per line, like example.com or *.example.com; empty allows every domain; pending invitations are not
                affected)
              </span>
            </label>
            <textarea id="org-domains" name="domains" rows={3}>
              {s.typedDomains ?? s.domains.join('\n')}
            </textarea>
          </div>
          <div class="field">
            <label for="org-locale">Default language of invitations</label>
            <select id="org-locale" name="default_locale">
              {Object.entries(LOCALE_NAMES).map(([code, name]) => (
                <option value={code} selected={s.defaultLocale === code}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <button class="btn primary" type="submit">
            Save settings
          </button>
        </form>
      ) : (
        <div class="card-body">
          <p>
            <strong>Allowed email domains:</strong> {s.domains.length ? s.domains.join(', ') : 'every domain'}
          </p>
          <p>
            <strong>Default language of invitations:</strong> {LOCALE_NAMES[s.defaultLocale] ?? s.defaultLocale}
          </p>
        </div>
      )}
    </section>
  );
};

/** Settings > Team. */
export const TeamView: FC<{ p: TeamViewProps }> = ({ p }) => {
  const manager = p.role === 'owner' || p.role === 'admin';
  return (
    <Layout title={`Team · ${p.org.name}`} user={p.user} orgs={p.orgs} current={p.org.slug} csrf={p.csrf}>
      <h1>Team</h1>
      <p class="sub">
        Settings for <strong>{p.org.name}</strong> · you are {p.role === 'admin' || p.role === 'owner' ? 'an' : 'a'}{' '}
        <strong>{p.role}</strong>
      </p>
      {manager ? <SettingsTabs slug={p.org.slug} current="team" /> : null}
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
      {manager ? (
        <section class="card" aria-labelledby="invitations-title">
          <div class="card-head">
            <h2 id="invitations-title">Invitations</h2>
            <span class="capacity" id="capacity">
              {p.pending} of {p.limit} pending invitations
              <progress class="meter" value={p.pending} max={p.limit} aria-hidden="true"></progress>
            </span>
          </div>
          {p.invitations.length > 0 ? (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Email</th>
                    <th>Role</th>
                    <th>Status</th>
                    <th>Expires</th>
                    <th>Invited by</th>
                    <th>Delivery</th>
                    <th>
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.invitations.map((i) => (
                    <InvitationRow p={p} i={i} />
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <div class="card-body muted">No invitations yet.</div>
          )}
          <InviteForm p={p} />
        </section>
      ) : null}
      {manager && p.settings ? <OrganizationSettings p={p} /> : null}
      <section class="card" aria-labelledby="members-title">
        <div class="card-head">
          <h2 id="members-title">Members</h2>
          <span class="capacity">
            {p.members.length} {p.members.length === 1 ? 'member' : 'members'}
          </span>
        </div>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Joined</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.members.map((m) => (
              <MemberRow p={p} m={m} />
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  );
};
