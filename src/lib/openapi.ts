import { LOCALES, ROLES } from '../db/schema';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

/** Turns a zod failure into `validation_failed` with one `{path, message}` per problem. */
export function validationError(error: z.ZodError): ApiError {
  const errors = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  return new ApiError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

/** A sub-app whose request validation failures become RFC 9457 problems. */
export const createRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** Problem responses to declare on a route, by status. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Problem details', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );

export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const Id = z.string().min(1).max(64);
/** A page of a keyset-paginated list: `limit` (1–100) and the `cursor` of the previous page. */
export const PageQuery = z
  .object({
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'an integer from 1 to 100')
      .transform(Number)
      .pipe(z.number().int().min(1).max(100))
      .optional(),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export const OrgParams = z.object({ org: Id.openapi({ description: 'Organization id or slug' }) });
export const RoleSchema = z.enum(ROLES);
/** SPEC §12: the languages of invitation emails and acceptance pages. */
export const LocaleSchema = z.enum(LOCALES);
export const EmailSchema = z.string().trim().max(254).email();
/** A person's or an organization's display name, everywhere (API and forms): 1 to 100 characters. */
export const NameSchema = z.string().trim().min(1).max(100);
export const bearer = [{ bearerAuth: [] }];
