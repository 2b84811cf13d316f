import { z } from '@hono/zod-openapi';
import { JOIN_ROLES, ROLES } from '../db/schema';
import { Id, OrgParams, PageQuery } from '../lib/openapi';

/** SPEC §16: uses per link (default 25) and days to live (default 7). */
export const LINK_MAX_USES = { min: 1, max: 1000, default: 25 } as const;
export const LINK_EXPIRES_IN_DAYS = { min: 1, max: 30, default: 7 } as const;

const MaxUses = z.number().int().min(LINK_MAX_USES.min).max(LINK_MAX_USES.max);
const ExpiresInDays = z.number().int().min(LINK_EXPIRES_IN_DAYS.min).max(LINK_EXPIRES_IN_DAYS.max);
/** The roles a link can give: never owner or admin. */
export const JoinRoleSchema = z.enum(JOIN_ROLES);

export const CreateLinkBody = z
  .object({
    role: JoinRoleSchema,
    // Optional for callers (defaults applied by the route): `.default()` would publish them as required.
    max_uses: MaxUses.optional().openapi({ default: LINK_MAX_USES.default }),
    expires_in_days: ExpiresInDays.optional().openapi({ default: LINK_EXPIRES_IN_DAYS.default }),
    requires_approval: z.boolean().optional().openapi({ default: false }),
  })
  .strict()
  .openapi('CreateInviteLink', { example: { role: 'developer', max_uses: 10, expires_in_days: 7 } });

export const UpdateLinkBody = z
  .object({
    enabled: z.boolean().optional().openapi({
      description: 'Enabling again counts against the 10 live links and makes the caller its `created_by`',
    }),
    max_uses: MaxUses.optional().openapi({ description: 'Not below `uses`' }),
    expires_in_days: ExpiresInDays.optional().openapi({ description: 'Counted from now' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of enabled, max_uses, expires_in_days')
  .openapi('UpdateInviteLink', { example: { enabled: false } });

export const LinkParams = OrgParams.extend({ id: Id });
export const CodeParams = z.object({
  code: z.string().min(1).max(256).openapi({ description: 'The code of an invite link URL (`/join/{code}`)' }),
});
export const LinkListQuery = PageQuery;

export const LINK_STATUSES = ['active', 'expired', 'used_up', 'disabled', 'deleted'] as const;

export const InviteLinkSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    role: JoinRoleSchema,
    max_uses: z.number().int(),
    uses: z.number().int(),
    expires_at: z.string(),
    requires_approval: z.boolean(),
    enabled: z.boolean(),
    status: z.enum(LINK_STATUSES),
    disabled_reason: z
      .enum(['disabled', 'deleted', 'creator_removed'])
      .nullable()
      .openapi({ description: 'Why `enabled` is false: by a member, deleted, or its creator lost authority' }),
    created_by: z.string().openapi({ description: 'Whoever created it, or last enabled or rotated it' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('InviteLink');

export const InviteLinkWithUrlSchema = InviteLinkSchema.extend({
  url: z.string().openapi({ description: 'The secret URL: shown only here (and on rotate), stored only as a hash' }),
}).openapi('InviteLinkWithUrl');

export const InviteLinkListSchema = z.object({ data: z.array(InviteLinkSchema), next_cursor: z.string().nullable() });

export const RedeemedSchema = z
  .object({
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role: z.enum(ROLES),
  })
  .openapi('InviteLinkJoined');

const JoinRequestResourceSchema = z.object({
  id: z.string(),
  organization_id: z.string(),
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  source: z.enum(['link', 'domain']),
  link_id: z.string().nullable(),
  role: z.enum(ROLES),
  status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']),
  reason: z.string().nullable(),
  created_at: z.string(),
  decided_at: z.string().nullable(),
  decided_by: z.string().nullable(),
});
export const JoinRequestedSchema = z.object({ join_request: JoinRequestResourceSchema }).openapi('InviteLinkRequested');
