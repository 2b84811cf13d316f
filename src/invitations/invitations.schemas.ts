import { z } from '@hono/zod-openapi';
import { DELIVERY_STATES, INVITATION_STATUSES } from '../db/schema';
import {
  EmailSchema,
  Id,
  LocaleSchema,
  NameSchema,
  OrgParams,
  PageQuery,
  ProblemSchema,
  RoleSchema,
} from '../lib/openapi';

export const ExpiresInDays = z.number().int().min(1).max(30);
export const DEFAULT_EXPIRES_IN_DAYS = 7;
/** The personal message of an invitation. */
export const MessageSchema = z.string().max(1000);

export const CreateInvitationBody = z
  .object({
    email: EmailSchema,
    role: RoleSchema,
    message: MessageSchema.nullable().optional(),
    locale: LocaleSchema.optional().openapi({
      description: "The invitee's language; the organization's default_locale when omitted, else en",
    }),
    // Optional for callers (7 when omitted, applied by the route): `.default()` would publish it as required.
    expires_in_days: ExpiresInDays.optional().openapi({ default: DEFAULT_EXPIRES_IN_DAYS }),
  })
  .strict()
  .openapi('CreateInvitation', {
    example: { email: 'dev@example.com', role: 'developer', message: 'Welcome to the team!', expires_in_days: 7 },
  });

export const BulkInvitationsBody = z
  .object({
    invitations: z
      .array(
        z.record(z.string(), z.unknown()).openapi({
          description: 'A CreateInvitation body; each row is validated on its own and answered in `results`',
        }),
      )
      .min(1)
      .max(50),
  })
  .strict()
  .openapi('BulkInvitations', {
    example: {
      invitations: [
        { email: 'ada@example.com', role: 'developer' },
        { email: 'grace@example.com', role: 'admin', expires_in_days: 14 },
      ],
    },
  });

export const ResendBody = z
  .object({ expires_in_days: ExpiresInDays.optional(), locale: LocaleSchema.optional() })
  .strict()
  .openapi({ example: { expires_in_days: 14 } });
export const UpdateInvitationBody = z
  .object({ role: RoleSchema })
  .strict()
  .openapi({ example: { role: 'admin' } });

export const ListQuery = z
  .object({ status: z.enum(INVITATION_STATUSES).optional() })
  .extend(PageQuery.shape)
  .strict();

export const InvitationParams = OrgParams.extend({ id: Id });

export const InvitationSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    email: z.string(),
    role: RoleSchema,
    status: z.enum(INVITATION_STATUSES),
    message: z.string().nullable(),
    expires_in_days: z.number().int(),
    expires_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    invited_by: z.object({ user_id: z.string(), name: z.string().nullable(), email: z.string().nullable() }),
    last_sent_at: z.string(),
    send_count: z.number().int(),
    email_delivery: z.enum(DELIVERY_STATES).openapi({
      description: 'queued → sent → delivered | bounced | complained (from the provider), or failed',
    }),
    email_delivery_detail: z
      .string()
      .nullable()
      .openapi({ description: 'A short reason for the delivery state (a bounce, a refusal); never a token' }),
    accepted_at: z.string().nullable(),
    accepted_by: z.string().nullable(),
    revoked_at: z.string().nullable(),
    locale: LocaleSchema,
    declined_at: z.string().nullable().openapi({ description: 'When the invitee declined (status `declined`)' }),
    reminded_at: z.string().nullable().openapi({
      description: "When this sending's reminder before expiry went out; null until then, and again after a resend",
    }),
    reinvite_requested_at: z.string().nullable().openapi({
      description: 'When the invitee asked for a new invitation (once per expiry); null again after a resend',
    }),
  })
  .openapi('Invitation');

export const InvitationListSchema = z.object({ data: z.array(InvitationSchema), next_cursor: z.string().nullable() });

export const TokenQuery = z.object({ token: z.string().min(1).max(4096) });
export const AcceptBody = z
  .object({ token: z.string().min(1).max(4096), name: NameSchema.optional() })
  .strict()
  .openapi({ example: { token: '<the token from the emailed link>', name: 'Ada Lovelace' } });

/** A link holder's decline or request for a new invitation: only the link's token. */
export const TokenBody = z
  .object({ token: z.string().min(1).max(4096) })
  .strict()
  .openapi({ example: { token: '<the token from the emailed link>' } });

export const DeclinedSchema = z.object({ declined: z.literal(true) }).openapi('InvitationDeclined');

export const ReinviteRequestedSchema = z
  .object({
    requested: z.literal(true),
    already: z
      .boolean()
      .openapi({ description: 'True when this expiry was already asked about: nothing new was recorded or sent' }),
  })
  .openapi('ReinviteRequested');

/** One invitation in the signed-in account's inbox (SPEC §17). */
export const InboxItemSchema = z
  .object({
    id: z.string(),
    organization: z.object({ name: z.string(), slug: z.string() }),
    role: RoleSchema,
    inviter: z.object({ name: z.string().nullable() }),
    expires_at: z.string(),
  })
  .openapi('InboxInvitation');

export const InboxSchema = z.object({ data: z.array(InboxItemSchema) }).openapi('InvitationInbox');

/** Accepting from the inbox: as a link's accept, without the sign-in fields (the caller is signed in). */
export const InboxAcceptedSchema = z
  .object({
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role: RoleSchema,
    user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  })
  .openapi('InboxAcceptResult');

export const InboxParams = z.object({ id: Id });

export const PreviewSchema = z
  .object({
    organization: z.object({ name: z.string(), slug: z.string() }),
    email: z.string(),
    role: RoleSchema,
    inviter: z.object({ name: z.string().nullable() }),
    expires_at: z.string(),
    account_exists: z.boolean(),
  })
  .openapi('InvitationPreview');

export const AcceptResultSchema = z
  .object({
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role: RoleSchema,
    user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
    session_token: z.string().optional().openapi({
      description:
        'Only for an anonymous accept that created the account, or used a link sent less than 15 minutes ago',
    }),
    sign_in_link_sent: z.literal(true).optional().openapi({
      description:
        'An existing account accepted anonymously through an older link: joined, and a sign-in link was emailed instead of a session',
    }),
  })
  .openapi('AcceptResult');

export const BulkResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int(),
        email: z.string(),
        status: z.number().int().openapi({ description: '201, or the status a single create would have answered' }),
        invitation: InvitationSchema.optional(),
        error: ProblemSchema.optional().openapi({ description: 'The problem a single create would have answered' }),
      }),
    ),
  })
  .openapi('BulkInvitationResults');
