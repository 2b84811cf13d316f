import { z } from '@hono/zod-openapi';
import { LocaleSchema, NameSchema, RoleSchema } from '../lib/openapi';
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
  })
  .openapi('Organization');

export const UpdateOrganizationBody = z
  .object({
    allowed_email_domains: AllowedDomainsSchema.optional(),
    default_locale: LocaleSchema.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give allowed_email_domains or default_locale')
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
