import { z } from '@hono/zod-openapi';
import { NameSchema, RoleSchema } from '../lib/openapi';

export const UserSchema = z.object({ id: z.string(), email: z.string(), name: z.string() }).openapi('User');

export const MeSchema = z
  .object({
    user: UserSchema,
    organizations: z.array(z.object({ id: z.string(), name: z.string(), slug: z.string(), role: RoleSchema })),
  })
  .openapi('Me');

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    expires_at: z
      .string()
      .nullable()
      .openapi({ description: 'Null only for tokens created before tokens expired by default.' }),
  })
  .openapi('ApiToken');

export const CreatedApiTokenSchema = ApiTokenSchema.extend({ token: z.string() }).openapi('CreatedApiToken');

export const CreateApiTokenBody = z
  .object({
    name: NameSchema,
    expires_in_days: z
      .number()
      .int()
      .min(1)
      .max(365)
      .optional()
      .openapi({ description: 'Days until the token stops working (1-365); omitted, 90 (SPEC §18).', default: 90 }),
  })
  .strict()
  .openapi({ example: { name: 'CI deploys', expires_in_days: 90 } });

export const SessionSchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi('Session');
