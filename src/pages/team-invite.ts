import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env';
import { EmailSchema, RoleSchema } from '../lib/openapi';
import { coordinatorFor } from '../lib/coordinator';
import type { WriteRequest } from '../org-coordinator';
import { orgIdOf, writeRequest, written } from '../writes';
import { ExpiresInDays, MessageSchema } from '../invitations/invitations.schemas';
import { credentialOf } from './pages.middleware';
import type { InviteFormState } from './team.view';
import { plain, renderTeam, type SignedIn } from './team.render';
import { BULK_MAX_ROWS, refusal } from '../invitations/bulk.service';
import { normalizeEmail } from '../lib/crypto';

type Ctx = Context<AppEnv>;

export const InviteForm = z.object({
  email: EmailSchema,
  role: RoleSchema,
  message: MessageSchema,
  expires_in_days: z
    .string()
    .trim()
    .regex(/^\d{1,2}$/)
    .transform(Number)
    .pipe(ExpiresInDays),
});
const FIELD_MESSAGES: Record<string, string> = {
  email: 'Enter a valid email address, like name@company.com.',
  role: 'Choose one of the roles.',
  message: 'The personal message can be at most 1000 characters.',
  expires_in_days: 'Enter a whole number of days from 1 to 30.',
};

/** The invite form's plain-words message for each field a zod check refused. */
export function fieldErrors(error: z.ZodError): InviteFormState['errors'] {
  const errors: InviteFormState['errors'] = {};
  for (const issue of error.issues)
    errors[issue.path[0] as keyof typeof errors] = FIELD_MESSAGES[String(issue.path[0])];
  return errors;
}

/** A blank personal message is no message. */
export const optionalMessage = (message: string) => (message.trim() ? message : null);

/**
 * The invite form with several addresses (SPEC §12): one bulk request, then each address with its
 * outcome in plain words; the ones not sent stay in the field to fix and send again.
 */
export async function inviteSeveral(
  c: Ctx,
  user: SignedIn,
  slug: string,
  values: InviteFormState['values'],
  addresses: string[],
) {
  if (addresses.length > BULK_MAX_ROWS) {
    return renderTeam(c, user, slug, {
      invite: { values, errors: { email: `At most ${BULK_MAX_ROWS} addresses at once.` } },
      status: 400,
    });
  }
  const shared = InviteForm.omit({ email: true }).safeParse(values);
  if (!shared.success) {
    return renderTeam(c, user, slug, { invite: { values, errors: fieldErrors(shared.error) }, status: 400 });
  }
  const orgId = await orgIdOf(c, slug);
  if (!orgId) return renderTeam(c, user, slug);
  const rows = addresses.map((address, index) => {
    const email = EmailSchema.safeParse(address);
    if (!email.success) return { invalid: refusal(index, address, 'validation_failed', FIELD_MESSAGES.email) };
    return {
      email: normalizeEmail(email.data),
      role: shared.data.role,
      message: optionalMessage(shared.data.message),
      expiresInDays: shared.data.expires_in_days,
    };
  });
  const outcome = written(c, await coordinatorFor(c.env, orgId).createInvitationsBulk(pageWrite(c, orgId), { rows }));
  if (!outcome.ok && outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
  if (!outcome.ok)
    return renderTeam(c, user, slug, {
      invite: { values, errors: { form: plain(outcome.code) } },
      status: outcome.code === 'forbidden' ? 403 : 409,
    });
  const bulkResults = outcome.value.results.map((r) => ({
    email: addresses[r.index],
    sent: r.status === 201,
    reason:
      'error' in r
        ? r.error.code === 'validation_failed'
          ? 'That is not a valid email address.'
          : plain(r.error.code)
        : undefined,
  }));
  const left = bulkResults
    .filter((r) => !r.sent)
    .map((r) => r.email)
    .join('\n');
  return renderTeam(c, user, slug, { invite: { values: { ...values, email: left }, errors: {} }, bulkResults });
}

/** A page's write: the session cookie is its credential. */
export const pageWrite = (c: Ctx, orgId: string): WriteRequest => ({
  ...writeRequest(c, orgId),
  credential: credentialOf(c),
});
