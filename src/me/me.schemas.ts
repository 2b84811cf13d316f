import { z } from '@hono/zod-openapi';
import { RoleSchema } from '../lib/openapi';

export const UserSchema = z.object({ id: z.string(), email: z.string(), name: z.string() }).openapi('User');

export const MeSchema = z
  .object({
    user: UserSchema,
    organizations: z.array(z.object({ id: z.string(), name: z.string(), slug: z.string(), role: RoleSchema })),
  })
  .openapi('Me');

export const ApiTokenSchema = z
  .object({ id: z.string(), name: z.string(), created_at: z.string(), last_used_at: z.string().nullable() })
  .openapi('ApiToken');

export const CreatedApiTokenSchema = z
  .object({ id: z.string(), name: z.string(), token: z.string(), created_at: z.string() })
  .openapi('CreatedApiToken');

export const CreateApiTokenBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();
