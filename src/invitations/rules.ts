import type { Role } from '../db/schema';
import { fail, type Failure } from '../errors';
import { isManager } from '../lib/roles';
import { domainAllowed } from '../organizations/domains';
import { PENDING_LIMIT } from '../lib/limits';

/*
 * The invitation rules in TypeScript, each refusal written once. Pure functions over a snapshot of
 * the state: they name the first rule that refuses, in the order of SPEC §2. The same rules guard
 * the SQL that writes (invitation-sql.ts), so a refusal decided here is also enforced there.
 */

/** The refusals, each with its one message. */
export const refusals = {
  noOrganization: () => fail('not_found', 'No such organization.'),
  noInvitation: () => fail('not_found', 'No such invitation in this organization.'),
  notManager: () => fail('forbidden', 'Only owners and admins can manage invitations.'),
  ownerRoleNeedsOwner: () => fail('forbidden', 'Only an owner can grant or change the owner role.'),
  domainNotAllowed: (domains: readonly string[]) =>
    fail('email_domain_not_allowed', `This organization only invites addresses at ${domains.join(', ')}.`),
  alreadyMember: (email: string) => fail('already_member', `${email} is already a member of this organization.`),
  alreadyPending: (email: string) =>
    fail('invitation_already_pending', `An invitation to ${email} is already pending; resend it instead.`),
  seatLimit: (limit: number) =>
    fail('seat_limit', `This organization has no seat left: all ${limit} are used by members and pending invitations.`),
  pendingLimit: () =>
    fail(
      'pending_invitation_limit',
      `An organization can have at most ${PENDING_LIMIT} pending invitations. Revoke one or wait for one to be accepted.`,
    ),
} satisfies Record<string, (...args: never[]) => Failure>;

/** Rules 1 and 2: managers only, and only owners touch owner invitations. */
export function decideAuthority(role: Role | null | undefined, touchesOwnerRole: boolean): Failure | null {
  if (!role) return refusals.noOrganization();
  if (!isManager(role)) return refusals.notManager();
  if (touchesOwnerRole && role !== 'owner') return refusals.ownerRoleNeedsOwner();
  return null;
}

/** What the create rules look at, read in one round trip (or kept up to date row by row in bulk). */
export interface CreateState {
  /** The organization's allowed email domains (empty: all). */
  domains: readonly string[];
  /** The email already belongs to a member. */
  isMember: boolean;
  /** A live pending invitation to the email exists. */
  otherPending: boolean;
  /** Live pending invitations in the organization. */
  pending: number;
  /** Members of the organization. */
  members: number;
  /** The organization's seat limit (SPEC §16); null: none. */
  seatLimit: number | null;
}

/**
 * Rules 6, 4, 3 for a new offer to `email` (after authority): the allowed domains, not already a
 * member, no other pending invitation, room under the pending limit and a free seat (SPEC §16). A resend that revives an
 * expired invitation is a new offer too.
 */
export function decideNewOffer(state: CreateState, email: string): Failure | null {
  if (!domainAllowed(state.domains, email)) return refusals.domainNotAllowed(state.domains);
  if (state.isMember) return refusals.alreadyMember(email);
  if (state.otherPending) return refusals.alreadyPending(email);
  if (state.pending >= PENDING_LIMIT) return refusals.pendingLimit();
  if (state.seatLimit !== null && state.members + state.pending >= state.seatLimit)
    return refusals.seatLimit(state.seatLimit);
  return null;
}

/** The whole create decision: authority first, then the new offer. */
export function decideCreate(
  role: Role | null | undefined,
  input: { email: string; role: Role },
  state: CreateState,
): Failure | null {
  return decideAuthority(role, input.role === 'owner') ?? decideNewOffer(state, input.email);
}
