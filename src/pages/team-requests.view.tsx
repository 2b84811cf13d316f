import type { FC } from 'hono/jsx';
import { ROLES } from '../db/schema';
import type { JoinRequestResource } from '../joins/requests.store';
import { Badge, CsrfField, DataTable } from './layout';
import type { TeamViewProps } from './team.view';

const SOURCES: Record<string, string> = { link: 'Invite link', domain: 'Email domain' };

/** The roles `role` may grant on approval: an admin never grants owner or admin (SPEC §16). */
const grantable = (role: string) => ROLES.filter((r) => role === 'owner' || (r !== 'owner' && r !== 'admin'));

const RequestRow: FC<{ p: TeamViewProps; r: JoinRequestResource }> = ({ p, r }) => {
  const base = `/orgs/${p.org.slug}/settings/team/join-requests/${r.id}`;
  const who = r.user.name || r.user.email;
  return (
    <tr data-join-request={r.user.email}>
      <td>
        <strong>{r.user.name}</strong>
        <div class="muted small">{r.user.email}</div>
      </td>
      <td class="small nowrap">{SOURCES[r.source] ?? r.source}</td>
      <td>
        <Badge value={r.role} />
      </td>
      <td>
        <div class="actions">
          <form method="post" action={`${base}/approve`} class="inline-select">
            <CsrfField token={p.csrf} />
            <select name="role" aria-label={`Role to grant ${who}`}>
              {grantable(p.role).map((role) => (
                <option value={role} selected={role === r.role}>
                  {role}
                </option>
              ))}
            </select>
            <button class="btn small primary" type="submit" aria-label={`Approve ${who}`}>
              Approve
            </button>
          </form>
          <form method="post" action={`${base}/reject`} class="inline-select" data-confirm={`Reject ${who}’s request?`}>
            <CsrfField token={p.csrf} />
            <input
              type="text"
              name="reason"
              maxlength={500}
              placeholder="Reason (optional)"
              aria-label={`Reason for rejecting ${who} (optional, emailed to them)`}
            />
            <button class="btn small danger" type="submit" aria-label={`Reject ${who}`}>
              Reject
            </button>
          </form>
        </div>
      </td>
    </tr>
  );
};

/** Pending join requests (owners and admins), each approved (with a role) or rejected (with a reason). */
export const JoinRequests: FC<{ p: TeamViewProps }> = ({ p }) => (
  <section class="card" id="join-requests" aria-labelledby="join-requests-title">
    <div class="card-head">
      <h2 id="join-requests-title">Join requests</h2>
      <span class="capacity">
        {p.joinRequests.length} {p.joinRequests.length === 1 ? 'request' : 'requests'} waiting
      </span>
    </div>
    {p.joinRequests.length > 0 ? (
      <DataTable labelledBy="join-requests-title" columns={['Name', 'Source', 'Role asked for']}>
        {p.joinRequests.map((r) => (
          <RequestRow p={p} r={r} />
        ))}
      </DataTable>
    ) : (
      <div class="card-body muted">No one is waiting to join.</div>
    )}
  </section>
);

/** "N of M seats" (members and pending invitations), or "N seats used" without a limit. */
export const Seats: FC<{ seats: TeamViewProps['seats'] }> = ({ seats }) =>
  seats.limit === null ? (
    <span class="capacity" id="seats">
      {seats.used} {seats.used === 1 ? 'seat' : 'seats'} used
    </span>
  ) : (
    <span class="capacity" id="seats">
      {seats.used} of {seats.limit} seats
      <progress class="meter" value={Math.min(seats.used, seats.limit)} max={seats.limit} aria-hidden="true"></progress>
    </span>
  );
