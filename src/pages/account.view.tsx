import type { FC } from 'hono/jsx';
import type { AuthUser } from '../env';
import type { sessionsOf } from '../auth/auth.store';
import { isExpired, type ApiTokenView } from '../auth/api-tokens';
import { CsrfField, Layout, type OrgLink, DataTable, Alerts } from './layout';

type SessionView = Awaited<ReturnType<typeof sessionsOf>>[number];

const when = (iso: string | null) =>
  iso
    ? `${new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })} UTC`
    : 'Not yet';

/** A short, readable name for a browser from its User-Agent ("Chrome on Linux"); the full string is in the title. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : /curl\//.test(userAgent)
            ? 'curl'
            : null;
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /Android/.test(userAgent)
      ? 'Android'
      : /iPhone|iPad/.test(userAgent)
        ? 'iOS'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? userAgent.slice(0, 40);
}

/** Personal API tokens with a Revoke button each (SPEC §18): a token minted by a thief shows here. */
const TokensCard: FC<{ tokens: ApiTokenView[]; csrf?: string; now: number }> = (p) => (
  <section class="card" aria-labelledby="tokens-title">
    <div class="card-head">
      <h2 id="tokens-title">API tokens</h2>
      <span class="capacity">
        {p.tokens.length} personal {p.tokens.length === 1 ? 'token' : 'tokens'}
      </span>
    </div>
    {p.tokens.length === 0 ? (
      <div class="card-body">
        <p class="muted">
          No personal API tokens. Create one with <code>POST /v1/me/api-tokens</code> (see the{' '}
          <a href="/docs">API reference</a>).
        </p>
      </div>
    ) : (
      <DataTable labelledBy="tokens-title" columns={['Name', 'Created', 'Last used', 'Expires']}>
        {p.tokens.map((t) => (
          <tr data-token={t.id}>
            <td>{t.name}</td>
            <td class="muted small nowrap">{when(t.created_at)}</td>
            <td class="muted small nowrap">{when(t.last_used_at)}</td>
            <td class="muted small nowrap">
              {t.expires_at === null ? 'Never' : when(t.expires_at)}{' '}
              {isExpired(t, p.now) ? <span class="badge expired">expired</span> : null}
            </td>
            <td>
              <form
                method="post"
                action={`/account/api-tokens/${t.id}/revoke`}
                data-confirm={`Revoke the API token ${t.name}? Anything using it stops working at once.`}
              >
                <CsrfField token={p.csrf} />
                <button
                  class="btn small danger"
                  type="submit"
                  aria-label={`Revoke API token ${t.name}, created ${when(t.created_at)}`}
                >
                  Revoke
                </button>
              </form>
            </td>
          </tr>
        ))}
      </DataTable>
    )}
  </section>
);

export const AccountView: FC<{
  user: AuthUser;
  orgs: OrgLink[];
  csrf?: string;
  sessions: SessionView[];
  tokens: ApiTokenView[];
  now: number;
  notice?: string;
  error?: string;
}> = (p) => (
  <Layout title="Account" user={p.user} orgs={p.orgs} csrf={p.csrf}>
    <h1>Account</h1>
    <p class="sub">
      Signed in as <strong>{p.user.email}</strong>
    </p>
    <Alerts notice={p.notice} error={p.error} />
    <section class="card" aria-labelledby="sessions-title">
      <div class="card-head">
        <h2 id="sessions-title">Sessions</h2>
        <span class="capacity">
          {p.sessions.length} signed-in {p.sessions.length === 1 ? 'browser' : 'browsers'}
        </span>
      </div>
      <DataTable labelledBy="sessions-title" columns={['Device', 'IP address', 'Signed in', 'Last active']}>
        {p.sessions.map((s) => (
          <tr data-session={s.id}>
            <td>
              <span title={s.user_agent ?? undefined}>{deviceName(s.user_agent)}</span>{' '}
              {s.current ? <span class="badge accepted">This browser</span> : null}
            </td>
            <td class="small nowrap">{s.ip ?? '—'}</td>
            <td class="muted small nowrap">{when(s.created_at)}</td>
            <td class="muted small nowrap">{when(s.last_used_at)}</td>
            <td>
              {s.current ? null : (
                <form method="post" action={`/account/sessions/${s.id}/end`}>
                  <CsrfField token={p.csrf} />
                  <button
                    class="btn small danger"
                    type="submit"
                    aria-label={`Sign out ${deviceName(s.user_agent)}, signed in ${when(s.created_at)}`}
                  >
                    Sign out
                  </button>
                </form>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <div class="card-body">
        <p id="everywhere-help">
          Sign out everywhere ends every session, including the one you are using now, revokes every personal API token
          (listed below) and stops every sign-in link already emailed to you from working; an invitation link already
          emailed to you still joins its organization but no longer signs you in. Use it if you think someone else got
          in.
        </p>
        <form
          method="post"
          action="/sign-out"
          data-confirm="Sign out of every browser, revoke every API token and stop every sign-in link already emailed?"
        >
          <CsrfField token={p.csrf} />
          <input type="hidden" name="all" value="true" />
          <button class="btn danger" type="submit" aria-describedby="everywhere-help">
            Sign out everywhere
          </button>
        </form>
      </div>
    </section>
    <TokensCard tokens={p.tokens} csrf={p.csrf} now={p.now} />
  </Layout>
);
