import type { FC } from 'hono/jsx';
import type { AuthUser } from '../env';
import type { InvitationResource } from '../invitations/invitations.store';
import { Badge, CsrfField, Layout, type OrgLink, SettingsTabs, TableHead, Alerts } from './layout';
import { InviteForm, ROLE_OPTIONS } from './team-invite.view';
import { OrganizationSettings } from './team-settings.view';
import { JoinRequests, Seats } from './team-requests.view';
import type { JoinRequestResource } from '../joins/requests.store';

export interface InviteFormState {
  values: { email: string; role: string; message: string; expires_in_days: string };
  errors: Partial<Record<'email' | 'role' | 'message' | 'expires_in_days' | 'form', string>>;
}

export interface TeamViewProps {
  user: AuthUser;
  orgs: OrgLink[];
  /** Live invitations to the signed-in account's own email (the account menu shows them). */
  invitationsForYou?: number;
  org: { id: string; name: string; slug: string };
  role: string;
  csrf?: string;
  members: { user_id: string; email: string; name: string; role: string; joined_at: string }[];
  invitations: InvitationResource[];
  /** Seats used (members and live pending invitations) and the limit, null for none (SPEC §16). */
  seats: { used: number; limit: number | null };
  /** Pending join requests (owners and admins; empty for everyone else). */
  joinRequests: JoinRequestResource[];
  pending: number;
  limit: number;
  notice?: string;
  error?: string;
  invite?: InviteFormState;
  /**
   * Organization settings (SPEC §12, §16): allowed email domains, the default locale, the seat limit
   * and domain join; with what was typed, when the form was refused.
   */
  settings?: {
    domains: string[];
    defaultLocale: string;
    seatLimit: number | null;
    domainJoin: string;
    domainJoinRole: string;
    reminderDays: number | null;
    error?: string;
    typedDomains?: string;
    typedSeatLimit?: string;
    typedReminderDays?: string;
  };
  /** After inviting several addresses at once: each address and what happened to it. */
  bulkResults?: { email: string; sent: boolean; reason?: string }[];
}

const day = (iso: string | null) =>
  iso
    ? new Date(iso).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })
    : '—';

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
          {/* SPEC §17: the invitee asked (once per expiry; a resend answers it and clears the mark). */}
          {i.reinvite_requested_at && i.status === 'expired' ? (
            <span class="small" title={`Asked on ${day(i.reinvite_requested_at)}`}>
              Asked for a new invitation
            </span>
          ) : null}
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

/** Settings > Team. */
export const TeamView: FC<{ p: TeamViewProps }> = ({ p }) => {
  const manager = p.role === 'owner' || p.role === 'admin';
  return (
    <Layout
      title={`Team · ${p.org.name}`}
      user={p.user}
      orgs={p.orgs}
      current={p.org.slug}
      csrf={p.csrf}
      invitationsForYou={p.invitationsForYou}
    >
      <h1>Team</h1>
      <p class="sub">
        Settings for <strong>{p.org.name}</strong> · you are {p.role === 'admin' || p.role === 'owner' ? 'an' : 'a'}{' '}
        <strong>{p.role}</strong>
      </p>
      {manager ? <SettingsTabs slug={p.org.slug} current="team" /> : null}
      <Alerts notice={p.notice} error={p.error} />
      {manager ? <JoinRequests p={p} /> : null}
      {manager ? (
        <section class="card" id="invitations" aria-labelledby="invitations-title">
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
                <TableHead columns={['Email', 'Role', 'Status', 'Expires', 'Invited by', 'Delivery']} actions />
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
            {p.members.length} {p.members.length === 1 ? 'member' : 'members'} · <Seats seats={p.seats} />
          </span>
        </div>
        <table>
          <TableHead columns={['Name', 'Role', 'Joined']} actions />
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
