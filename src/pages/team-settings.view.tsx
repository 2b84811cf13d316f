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

/** Allowed email domains and the default language of invitations: owners edit, admins read. */
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
