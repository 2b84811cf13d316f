import { z } from '@hono/zod-openapi';
import { DOMAIN_JOIN_POLICIES, JOIN_ROLES } from '../db/schema';
import { LocaleSchema, NameSchema, RoleSchema } from '../lib/openapi';

export const DomainJoinSchema = z.enum(DOMAIN_JOIN_POLICIES);
export const JoinRoleSchema = z.enum(JOIN_ROLES);
import { AllowedDomainsSchema } from './domains';

export const SlugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/, 'lower-case letters, digits and dashes, 1-48 characters');

export const CreateOrganizationBody = z
  .object({ name: NameSchema, slug: SlugSchema.optional() })
  .strict()
  .openapi({ example: { name: 'Acme Inc', slug: 'acme-inc' } });

export const OrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    role: RoleSchema,
    created_at: z.string(),
    pending_invitations: z.number().int(),
    pending_invitation_limit: z.number().int(),
    allowed_email_domains: z
      .array(z.string())
      .openapi({ description: 'Invitations only to these domains (`example.com`, `*.example.com`); empty allows all' }),
    default_locale: LocaleSchema.openapi({ description: 'The language of new invitations when none is given' }),
    seat_limit: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Seats used may not exceed it (SPEC §16); null: no limit' }),
    seats_used: z.number().int().openapi({ description: 'Members plus live pending invitations' }),
    domain_join: DomainJoinSchema.openapi({
      description: 'How accounts at a verified domain may join: not at all, by request, or on their own',
    }),
    domain_join_role: JoinRoleSchema.openapi({ description: 'The role an account joins with by its domain' }),
    reminder_days_before_expiry: z.number().int().nullable().openapi({
      description: 'Days before expiry that an invitee is reminded, once per sending (SPEC §17); null: never',
    }),
  })
  .openapi('Organization');

export const UpdateOrganizationBody = z
  .object({
    allowed_email_domains: AllowedDomainsSchema.optional(),
    default_locale: LocaleSchema.nullable().optional(),
    seat_limit: z.number().int().min(1).max(100_000).nullable().optional(),
    domain_join: DomainJoinSchema.optional(),
    domain_join_role: JoinRoleSchema.optional(),
    reminder_days_before_expiry: z.number().int().min(1).max(29).nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one setting')
  .openapi('UpdateOrganization', {
    example: { allowed_email_domains: ['example.com', '*.example.com'], default_locale: 'de' },
  });

export const MemberSchema = z
  .object({ user_id: z.string(), email: z.string(), name: z.string(), role: RoleSchema, joined_at: z.string() })
  .openapi('Member');

export const ChangeRoleBody = z
  .object({ role: RoleSchema })
  .strict()
  .openapi({ example: { role: 'viewer' } });
