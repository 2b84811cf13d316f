import type { AuthUser } from '../env';
import type { Locale } from '../db/schema';
import { CATALOGUES, formatDate, roleName, t, type MessageKey } from '../i18n/messages';
import type { InvitationRow } from '../invitations/invitations.store';
import { CsrfField, Layout, MessagePage, NameField } from './layout';

const GoHome = ({ locale }: { locale: Locale }) => (
  <p>
    <a class="btn" href="/">
      {t(locale, 'page.go_home')}
    </a>
  </p>
);

export const Invalid = (p: { expired: boolean; csrf?: string; locale: Locale }) => (
  <MessagePage
    title={t(p.locale, 'page.invalid_title')}
    heading={t(p.locale, 'page.invalid_title')}
    csrf={p.csrf}
    lang={p.locale}
  >
    <p>{t(p.locale, p.expired ? 'page.expired_body' : 'page.invalid_body')}</p>
    <GoHome locale={p.locale} />
  </MessagePage>
);

export interface Offer {
  token: string;
  inv: InvitationRow;
  orgName: string;
  inviterName: string;
  /** An account with the invited email exists (read with the invitation). */
  accountExists: boolean;
  /** The invitation's language: every word of these pages follows it (SPEC §12). */
  locale: Locale;
}

/** A catalogue sentence with its values in bold (JSX escapes them). */
export const Sentence = (p: { locale: Locale; k: MessageKey; vars: Record<string, string> }) => (
  <>
    {CATALOGUES[p.locale][p.k].split(/(\{\w+\})/).map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      return name !== undefined && Object.hasOwn(p.vars, name) ? <strong>{p.vars[name]}</strong> : part;
    })}
  </>
);

const OfferHeader = ({ o }: { o: Offer }) => (
  <>
    <p class="sub">
      <Sentence
        locale={o.locale}
        k="page.offer"
        vars={{ inviter: o.inviterName, email: o.inv.email, org: o.orgName, role: roleName(o.locale, o.inv.role) }}
      />
    </p>
    {o.inv.message ? <blockquote>{o.inv.message}</blockquote> : null}
    <p class="muted small">{t(o.locale, 'page.expires_on', { date: formatDate(o.locale, o.inv.expiresAt) })}</p>
  </>
);

export const JoinPage = (p: { o: Offer; csrf?: string; isNew: boolean; error?: string }) => {
  const L = p.o.locale;
  return (
    <Layout title={t(L, 'page.join_button', { org: p.o.orgName })} csrf={p.csrf} narrow lang={L}>
      <div class="card">
        <div class="card-body">
          <h1>
            {p.isNew ? t(L, 'page.create_title') : t(L, 'page.join_title', { org: p.o.orgName, email: p.o.inv.email })}
          </h1>
          <OfferHeader o={p.o} />
          <form method="post" action="/invitations/accept">
            <CsrfField token={p.csrf} />
            <input type="hidden" name="token" value={p.o.token} />
            {p.isNew ? (
              <>
                <div class="field">
                  <label for="accept-email">{t(L, 'page.email_label')}</label>
                  <input id="accept-email" type="email" value={p.o.inv.email} readonly aria-readonly="true" />
                </div>
                <NameField id="accept-name" label={t(L, 'page.name_label')} error={p.error} described />
              </>
            ) : null}
            <button class="btn primary" type="submit">
              {p.isNew
                ? t(L, 'page.create_button', { org: p.o.orgName })
                : t(L, 'page.join_button', { org: p.o.orgName })}
            </button>
          </form>
          <DeclineForm o={p.o} csrf={p.csrf} />
        </div>
      </div>
    </Layout>
  );
};

export const MismatchPage = (p: { o: Offer; user: AuthUser; csrf?: string }) => (
  <MessagePage
    title={t(p.o.locale, 'page.mismatch_title')}
    heading={t(p.o.locale, 'page.mismatch_title')}
    user={p.user}
    csrf={p.csrf}
    lang={p.o.locale}
  >
    <OfferHeader o={p.o} />
    <p>
      <Sentence locale={p.o.locale} k="page.mismatch_body" vars={{ user: p.user.email, email: p.o.inv.email }} />
    </p>
    <form method="post" action="/sign-out">
      <CsrfField token={p.csrf} />
      <input type="hidden" name="next" value={`/invitations/accept?token=${encodeURIComponent(p.o.token)}`} />
      <button class="btn primary" type="submit">
        {t(p.o.locale, 'page.sign_out_continue')}
      </button>
    </form>
    <DeclineForm o={p.o} csrf={p.csrf} />
  </MessagePage>
);

/**
 * Decline (SPEC §17): anyone holding the link, no account needed. A form of its own after the
 * accept button, asked to confirm (with JavaScript): the link dies at once.
 */
const DeclineForm = ({ o, csrf }: { o: Offer; csrf?: string }) => (
  <form
    method="post"
    action="/invitations/decline"
    class="decline"
    data-confirm={t(o.locale, 'page.decline_confirm', { org: o.orgName })}
  >
    <CsrfField token={csrf} />
    <input type="hidden" name="token" value={o.token} />
    <p class="muted small">{t(o.locale, 'page.decline_hint', { inviter: o.inviterName })}</p>
    <button class="btn" type="submit">
      {t(o.locale, 'page.decline_button')}
    </button>
  </form>
);

/** After a decline with the link: done, the inviter told, the link dead. */
export const DeclinedPage = (p: { orgName: string; locale: Locale; csrf?: string }) => (
  <MessagePage
    title={t(p.locale, 'page.declined_title')}
    heading={t(p.locale, 'page.declined_title')}
    csrf={p.csrf}
    lang={p.locale}
  >
    <p>
      <Sentence locale={p.locale} k="page.declined_body" vars={{ org: p.orgName }} />
    </p>
    <GoHome locale={p.locale} />
  </MessagePage>
);

/** A genuine link whose invitation expired (its current jti, neither revoked, declined nor accepted). */
export interface ExpiredOffer {
  token: string;
  email: string;
  orgName: string;
  inviterName: string;
  expiresAt: number;
  /** When the invitee asked for a new invitation for this expiry, if they did. */
  askedAt: number | null;
  locale: Locale;
}

/**
 * The 410 page of an expired invitation's genuine link (SPEC §17): "Ask for a new invitation", a
 * POST with the link; once asked, when they asked instead.
 */
export const ExpiredPage = (p: { e: ExpiredOffer; csrf?: string }) => {
  const { e } = p;
  const L = e.locale;
  return (
    <MessagePage title={t(L, 'page.invalid_title')} heading={t(L, 'page.invalid_title')} csrf={p.csrf} lang={L}>
      <p>{t(L, 'page.expired_body')}</p>
      {e.askedAt !== null ? (
        <p>
          <Sentence
            locale={L}
            k="page.already_asked_body"
            vars={{ inviter: e.inviterName, date: formatDate(L, e.askedAt), email: e.email }}
          />
        </p>
      ) : (
        <>
          <p>
            <Sentence
              locale={L}
              k="page.expired_ask"
              vars={{ inviter: e.inviterName, email: e.email, org: e.orgName, date: formatDate(L, e.expiresAt) }}
            />
          </p>
          <form method="post" action="/invitations/reinvite-request">
            <CsrfField token={p.csrf} />
            <input type="hidden" name="token" value={e.token} />
            <button class="btn primary" type="submit">
              {t(L, 'page.ask_button')}
            </button>
          </form>
        </>
      )}
      <GoHome locale={L} />
    </MessagePage>
  );
};

/** Asked (or asked already, for this expiry): the inviter was emailed. */
export const AskedPage = (p: { e: ExpiredOffer; csrf?: string }) => (
  <MessagePage
    title={t(p.e.locale, 'page.asked_title')}
    heading={t(p.e.locale, 'page.asked_title')}
    csrf={p.csrf}
    lang={p.e.locale}
  >
    <p>
      <Sentence
        locale={p.e.locale}
        k="page.asked_body"
        vars={{ inviter: p.e.inviterName, org: p.e.orgName, email: p.e.email }}
      />
    </p>
    <GoHome locale={p.e.locale} />
  </MessagePage>
);
