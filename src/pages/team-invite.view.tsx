import { ROLES } from '../db/schema';
import type { FC } from 'hono/jsx';
import { CsrfField } from './layout';
import type { TeamViewProps } from './team.view';

export const ROLE_OPTIONS = ROLES;

const FieldError: FC<{ id: string; message?: string }> = ({ id, message }) =>
  message ? (
    <div class="field-error" id={id}>
      {message}
    </div>
  ) : null;

export const InviteForm: FC<{ p: TeamViewProps }> = ({ p }) => {
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
