import type { AuthUser } from '../env';
import { roleName } from '../i18n/messages';
import { CsrfField, Layout, MessagePage, type OrgLink } from './layout';

/** What an invite link offers, as its page shows it (the code only in the form's action). */
export interface LinkOffer {
  code: string;
  orgName: string;
  orgSlug: string;
  role: string;
  requiresApproval: boolean;
}

const joinPath = (code: string) => `/join/${encodeURIComponent(code)}`;

const OfferText = ({ o }: { o: LinkOffer }) => (
  <>
    <p class="sub">
      This link invites you to join <strong>{o.orgName}</strong> as <strong>{roleName('en', o.role)}</strong>.
    </p>
    {o.requiresApproval ? <p>An owner or admin of {o.orgName} approves each request to join.</p> : null}
  </>
);

/** The signed-in visitor's page: one button joins (or asks to). */
const SignedIn = (p: { o: LinkOffer; user: AuthUser; member: boolean; csrf?: string }) =>
  p.member ? (
    <>
      <p>
        You are already a member of <strong>{p.o.orgName}</strong>.
      </p>
      <p>
        <a class="btn primary" href={`/orgs/${encodeURIComponent(p.o.orgSlug)}/settings/team`}>
          Go to {p.o.orgName}
        </a>
      </p>
    </>
  ) : (
    <form method="post" action={joinPath(p.o.code)}>
      <CsrfField token={p.csrf} />
      <p class="muted small">
        Signed in as <strong>{p.user.email}</strong>
      </p>
      <button class="btn primary" type="submit">
        {p.o.requiresApproval ? `Ask to join ${p.o.orgName}` : `Join ${p.o.orgName}`}
      </button>
    </form>
  );

/** The signed-out visitor's page: a sign-in (or sign-up) link by email, which brings them back here. */
const SignedOut = (p: { o: LinkOffer; csrf?: string }) => (
  <form method="post" action="/sign-in">
    <CsrfField token={p.csrf} />
    <input type="hidden" name="next" value={joinPath(p.o.code)} />
    <p>Sign in, or create your account, with a link we email you. It brings you back to this page.</p>
    <div class="field">
      <label for="join-email">Email</label>
      <input id="join-email" name="email" type="email" required autocomplete="email" />
    </div>
    <button class="btn primary" type="submit">
      Email me a sign-in link
    </button>
  </form>
);

export const JoinLinkPage = (p: {
  o: LinkOffer;
  user: AuthUser | null;
  orgs: OrgLink[];
  member: boolean;
  csrf?: string;
}) => (
  <Layout title={`Join ${p.o.orgName}`} user={p.user} orgs={p.orgs} csrf={p.csrf} narrow>
    <div class="card">
      <div class="card-body">
        <h1>Join {p.o.orgName}</h1>
        <OfferText o={p.o} />
        {p.user ? (
          <SignedIn o={p.o} user={p.user} member={p.member} csrf={p.csrf} />
        ) : (
          <SignedOut o={p.o} csrf={p.csrf} />
        )}
      </div>
    </div>
  </Layout>
);

/** 410: a link that admits no one (disabled, expired, used up, rotated, deleted, or never was). */
export const JoinLinkGone = (p: { csrf?: string; user?: AuthUser | null; orgs?: OrgLink[] }) => (
  <MessagePage
    title="Invite link no longer valid"
    heading="Invite link no longer valid"
    user={p.user}
    orgs={p.orgs}
    csrf={p.csrf}
  >
    <p>
      This invite link was disabled, has expired, was used up or replaced by a new one. Ask the organization for a new
      link.
    </p>
    <p>
      <a class="btn" href="/">
        Go to the dashboard
      </a>
    </p>
  </MessagePage>
);

/** 202's page: the request is filed; an owner or admin decides. */
export const RequestSent = (p: { orgName: string; user: AuthUser; orgs: OrgLink[]; csrf?: string }) => (
  <MessagePage title="Request sent" heading="Request sent" user={p.user} orgs={p.orgs} csrf={p.csrf}>
    <p>
      You asked to join <strong>{p.orgName}</strong>. An owner or admin will decide, and we will email you the answer.
    </p>
  </MessagePage>
);

/** A refusal that is not the link's fault (seats, allowed domains, already used): said as it is. */
export const JoinRefused = (p: { orgName: string; detail: string; user: AuthUser; orgs: OrgLink[]; csrf?: string }) => (
  <MessagePage
    title={`Could not join ${p.orgName}`}
    heading={`Could not join ${p.orgName}`}
    user={p.user}
    orgs={p.orgs}
    csrf={p.csrf}
  >
    <p>{p.detail}</p>
  </MessagePage>
);
