import type { FC } from 'hono/jsx';
import { CsrfField } from './layout';
import type { TeamViewProps } from './team.view';

const LOCALE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'Deutsch',
  fr: 'Français',
  es: 'Español',
  ja: '日本語',
  'pt-BR': 'Português (Brasil)',
};

const DOMAIN_JOIN: Record<string, string> = {
  off: 'Off: only invitations and invite links',
  request: 'Ask: they request to join, an owner or admin decides',
  auto: 'Automatic: they join at once',
};
const JOIN_ROLES = ['viewer', 'developer', 'billing'];

/**
 * Allowed email domains, the default language of invitations, the seat limit and how accounts at
 * the organization's verified domains join (SPEC §12, §16): owners edit, admins read.
 */
export const OrganizationSettings: FC<{ p: TeamViewProps }> = ({ p }) => {
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
          <div class="field">
            <label for="org-seat-limit">
              Seat limit{' '}
              <span class="hint">
                (members and pending invitations; empty for no limit; lowering it below what is used only blocks new
                seats)
              </span>
            </label>
            <input
              id="org-seat-limit"
              name="seat_limit"
              type="number"
              min={1}
              max={100000}
              inputmode="numeric"
              value={s.typedSeatLimit ?? (s.seatLimit === null ? '' : String(s.seatLimit))}
            />
          </div>
          <div class="field">
            <label for="org-domain-join">
              Accounts at your verified domains{' '}
              <span class="hint">(the domains this organization has verified by DNS)</span>
            </label>
            <select id="org-domain-join" name="domain_join">
              {Object.entries(DOMAIN_JOIN).map(([value, text]) => (
                <option value={value} selected={s.domainJoin === value}>
                  {text}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="org-domain-join-role">Role of accounts joining by their domain</label>
            <select id="org-domain-join-role" name="domain_join_role">
              {JOIN_ROLES.map((role) => (
                <option value={role} selected={s.domainJoinRole === role}>
                  {role}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="org-reminder-days">
              Remind invitees{' '}
              <span class="hint">(days before an invitation expires, 1 to 29; empty for no reminders)</span>
            </label>
            <input
              id="org-reminder-days"
              name="reminder_days_before_expiry"
              type="number"
              min={1}
              max={29}
              inputmode="numeric"
              value={s.typedReminderDays ?? (s.reminderDays === null ? '' : String(s.reminderDays))}
            />
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
          <p>
            <strong>Seat limit:</strong> {s.seatLimit === null ? 'none' : s.seatLimit}
          </p>
          <p>
            <strong>Reminders:</strong>{' '}
            {s.reminderDays === null ? 'none' : `${s.reminderDays} days before an invitation expires`}
          </p>
          <p>
            <strong>Accounts at verified domains:</strong> {DOMAIN_JOIN[s.domainJoin] ?? s.domainJoin}
            {s.domainJoin === 'off' ? null : ` (as ${s.domainJoinRole})`}
          </p>
        </div>
      )}
    </section>
  );
};
