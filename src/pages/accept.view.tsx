import type { AuthUser } from '../env';
import type { Locale } from '../db/schema';
import { CATALOGUES, formatDate, roleName, t, type MessageKey } from '../i18n/messages';
import type { InvitationRow } from '../invitations/invitations.store';
import { CsrfField, Layout, MessagePage, NameField } from './layout';

export const Invalid = (p: { expired: boolean; csrf?: string; locale: Locale }) => (
  <MessagePage
    title={t(p.locale, 'page.invalid_title')}
    heading={t(p.locale, 'page.invalid_title')}
    csrf={p.csrf}
    lang={p.locale}
  >
    <p>{t(p.locale, p.expired ? 'page.expired_body' : 'page.invalid_body')}</p>
    <p>
      <a class="btn" href="/">
        {t(p.locale, 'page.go_home')}
      </a>
    </p>
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
  </MessagePage>
);
