import type { Child, FC } from 'hono/jsx';
import type { AuthUser } from '../env';

export interface OrgLink {
  name: string;
  slug: string;
  role: string;
}

export const CsrfField: FC<{ token?: string }> = ({ token }) => (
  <input type="hidden" name="_csrf" value={token ?? ''} />
);

/** The page's notice (a change done) and error, each announced to screen readers. */
export const Alerts: FC<{ notice?: string; error?: string }> = ({ notice, error }) => (
  <>
    {notice ? (
      <div class="alert notice" role="status">
        {notice}
      </div>
    ) : null}
    {error ? (
      <div class="alert error" role="alert">
        {error}
      </div>
    ) : null}
  </>
);

/** A table's header row; `actions`: a last, visually empty column for the row's buttons. */
export const TableHead: FC<{ columns: string[]; actions?: boolean }> = ({ columns, actions }) => (
  <thead>
    <tr>
      {columns.map((c) => (
        <th>{c}</th>
      ))}
      {actions ? (
        <th>
          <span class="sr-only">Actions</span>
        </th>
      ) : null}
    </tr>
  </thead>
);

/**
 * The name field of a form that creates an account. `described`: the error is tied to the input
 * (`aria-describedby`), for pages whose error may be read out of order.
 */
export const NameField: FC<{ id: string; label: string; error?: string; described?: boolean }> = (p) => (
  <div class="field">
    <label for={p.id}>{p.label}</label>
    <input
      id={p.id}
      name="name"
      type="text"
      required
      maxlength={100}
      autocomplete="name"
      aria-invalid={p.error ? 'true' : undefined}
      aria-describedby={p.described ? `${p.id}-error` : undefined}
    />
    {p.error ? (
      <div class="field-error" id={p.described ? `${p.id}-error` : undefined}>
        {p.error}
      </div>
    ) : null}
  </div>
);

/** A table of rows with actions, in a scrolling wrapper, named by the heading `labelledBy`. */
export const DataTable: FC<{ labelledBy: string; columns: string[]; children?: unknown }> = (p) => (
  <div class="table-wrap">
    <table aria-labelledby={p.labelledBy}>
      <TableHead columns={p.columns} actions />
      <tbody>{p.children}</tbody>
    </table>
  </div>
);

export const Badge: FC<{ value: string }> = ({ value }) => <span class={`badge ${value}`}>{value}</span>;

/** "N invitation(s) for you". */
const forYou = (n: number) => `${n} ${n === 1 ? 'invitation' : 'invitations'} for you`;

/**
 * The account menu: who is signed in, the invitations for them (only when there are any: SPEC §17),
 * the organizations to switch between, sign out.
 */
const AccountMenu: FC<{ user: AuthUser; orgs: OrgLink[]; current?: string; csrf?: string; invitations: number }> = ({
  user,
  orgs,
  current,
  csrf,
  invitations,
}) => (
  <details class="menu">
    {/* The accessible name starts with the visible text (axe: label-content-name-mismatch), so a
        voice-control user can say what they see. */}
    <summary>
      {orgs.find((o) => o.slug === current)?.name ?? user.name}
      {invitations > 0 ? (
        <>
          {' '}
          <span class="badge pending">{invitations}</span>
          <span class="sr-only"> {invitations === 1 ? 'invitation' : 'invitations'} for you</span>
        </>
      ) : null}
      <span class="sr-only">, account menu</span> <span aria-hidden="true">▾</span>
    </summary>
    <div class="menu-panel" role="menu">
      <div class="who">
        Signed in as <strong>{user.email}</strong>
      </div>
      {invitations > 0 ? (
        <a href="/#invitations-for-you" role="menuitem">
          {forYou(invitations)}
        </a>
      ) : null}
      <div class="label">Organizations</div>
      {orgs.map((o) => (
        <a
          href={`/orgs/${o.slug}/settings/team`}
          aria-current={o.slug === current ? 'true' : undefined}
          role="menuitem"
        >
          {o.name} <span class="muted small">· {o.role}</span>
        </a>
      ))}
      <a href="/orgs/new" role="menuitem">
        + New organization
      </a>
      <a href="/account" role="menuitem">
        Account and sessions
      </a>
      <form method="post" action="/sign-out">
        <CsrfField token={csrf} />
        <button type="submit" role="menuitem">
          Sign out
        </button>
      </form>
    </div>
  </details>
);

export const Layout: FC<{
  title: string;
  user?: AuthUser | null;
  orgs?: OrgLink[];
  current?: string;
  csrf?: string;
  narrow?: boolean;
  /** The page's language (the acceptance pages speak the invitation's). */
  lang?: string;
  /** How many live invitations are addressed to the signed-in account (the account menu shows them). */
  invitationsForYou?: number;
  children?: Child;
}> = (p) => (
  <html lang={p.lang ?? 'en'}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${p.title} · 8bit-ai`}</title>
      <link rel="stylesheet" href="/assets/app.css" />
      <script src="/assets/app.js" defer></script>
    </head>
    <body>
      <header class="topbar">
        <a class="brand" href="/">
          8bit<span>-ai</span>
        </a>
        <nav class="top-links">
          <a href="/docs">API reference</a>
          {p.user ? (
            <AccountMenu
              user={p.user}
              orgs={p.orgs ?? []}
              current={p.current}
              csrf={p.csrf}
              invitations={p.invitationsForYou ?? 0}
            />
          ) : null}
        </nav>
      </header>
      <main class={p.narrow ? 'narrow' : undefined}>{p.children}</main>
    </body>
  </html>
);

/** A one-message page (errors, "check your email", invalid links). */
export const MessagePage: FC<{
  title: string;
  heading: string;
  user?: AuthUser | null;
  orgs?: OrgLink[];
  csrf?: string;
  lang?: string;
  children?: Child;
}> = (p) => (
  <Layout title={p.title} user={p.user} orgs={p.orgs} csrf={p.csrf} narrow lang={p.lang}>
    <div class="card">
      <div class="card-body stack">
        <h1>{p.heading}</h1>
        {p.children}
      </div>
    </div>
  </Layout>
);

/** Settings > Team | Webhooks (owners and admins). */
export const SettingsTabs: FC<{ slug: string; current: 'team' | 'webhooks' }> = ({ slug, current }) => (
  <nav class="tabs" aria-label="Settings">
    <a href={`/orgs/${slug}/settings/team`} aria-current={current === 'team' ? 'page' : undefined}>
      Team
    </a>
    <a href={`/orgs/${slug}/settings/webhooks`} aria-current={current === 'webhooks' ? 'page' : undefined}>
      Webhooks
    </a>
  </nav>
);
