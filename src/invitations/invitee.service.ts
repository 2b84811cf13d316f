// SCAFFOLD (helper A replaces this file): the invitee's writes (SPEC §17).
import { fail, type Outcome } from '../errors';
import type { Locale } from '../db/schema';
import type { Caller, WriteContext } from '../lib/write-context';
import type { Accepted } from './acceptance.service';

/** What a link holder presents: the invitation and the link's jti, as the accept route reads them. */
export interface LinkInput {
  invitationId: string;
  jti: string;
}

const todo = async (..._args: unknown[]): Promise<never> => fail('internal_error') as never;

/** Decline with the link: the final status `declined`, no account needed. */
export const declineInvitation = (
  ctx: WriteContext,
  input: LinkInput,
): Promise<Outcome<{ declined: true; organization: { name: string }; locale: Locale }>> => todo(ctx, input);

/** Ask for a new invitation with the link of an expired one: once per expiry (a second is idempotent). */
export const requestReinvite = (
  ctx: WriteContext,
  input: LinkInput,
): Promise<Outcome<{ requested: true; already: boolean; organization: { name: string }; locale: Locale }>> =>
  todo(ctx, input);

/** Accept from the inbox: the session proves the email; an invitation to another email is 404. */
export const acceptMyInvitation = (
  ctx: WriteContext,
  caller: Caller,
  input: { invitationId: string },
): Promise<Outcome<Accepted>> => todo(ctx, caller, input);

/** Decline from the inbox; an invitation to another email is 404. */
export const declineMyInvitation = (
  ctx: WriteContext,
  caller: Caller,
  input: { invitationId: string },
): Promise<Outcome<{ declined: true }>> => todo(ctx, caller, input);
