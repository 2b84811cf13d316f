import { z } from '@hono/zod-openapi';
import { JOIN_REQUEST_STATUSES, JOIN_SOURCES } from '../db/schema';
import { Id, OrgParams, PageQuery, RoleSchema } from '../lib/openapi';

/** A rejection's reason, told to the requester. */
export const REASON_MAX = 500;

export const JoinRequestSchema = z
  .object({
    id: z.string().openapi({ example: 'jrq_0123456789abcdefghij' }),
    organization_id: z.string(),
    user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
    source: z
      .enum(JOIN_SOURCES)
      .openapi({ description: 'An invite link that requires approval, or a verified domain' }),
    link_id: z.string().nullable().openapi({ description: 'The invite link, when `source` is `link`' }),
    role: RoleSchema.openapi({ description: 'The role asked for; once approved, the role granted' }),
    status: z.enum(JOIN_REQUEST_STATUSES),
    reason: z.string().nullable().openapi({ description: 'Why it was rejected, when the decider said' }),
    created_at: z.string(),
    decided_at: z.string().nullable().openapi({ description: 'When it was approved, rejected or withdrawn' }),
    decided_by: z.string().nullable().openapi({ description: 'The user id of who approved, rejected or withdrew it' }),
  })
  .openapi('JoinRequest');

export const JoinRequestListSchema = z.object({
  data: z.array(JoinRequestSchema),
  next_cursor: z.string().nullable(),
});

export const MyJoinRequestSchema = JoinRequestSchema.extend({
  organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
}).openapi('MyJoinRequest');

export const MyJoinRequestListSchema = z.object({
  data: z.array(MyJoinRequestSchema),
  next_cursor: z.string().nullable(),
});

export const MemberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: RoleSchema,
  joined_at: z.string(),
});

export const ApprovedSchema = z
  .object({ join_request: JoinRequestSchema, member: MemberSchema })
  .openapi('JoinRequestApproved');

export const ListQuery = z
  .object({ status: z.enum(JOIN_REQUEST_STATUSES).optional() })
  .extend(PageQuery.shape)
  .strict();

/** A join request id, as `newId('jrq')` makes them: anything else is a 400, never a lookup. */
const JoinRequestId = Id.regex(/^jrq_[a-z0-9]{20}$/, 'a join request id (jrq_ and 20 letters or digits)');
export const JoinRequestParams = OrgParams.extend({ id: JoinRequestId });
export const MyJoinRequestParams = z.object({ id: JoinRequestId });

export const ApproveBody = z
  .object({
    role: RoleSchema.optional().openapi({
      description: "The role to grant; the request's when omitted. Only owners grant owner or admin.",
    }),
  })
  .strict()
  .openapi('ApproveJoinRequest', { example: { role: 'developer' } });

export const RejectBody = z
  .object({
    reason: z
      .string()
      .trim()
      .max(REASON_MAX)
      .nullable()
      .optional()
      .openapi({ description: `Told to the requester (at most ${REASON_MAX} characters)` }),
  })
  .strict()
  .openapi('RejectJoinRequest', { example: { reason: 'We only admit the platform team for now.' } });
