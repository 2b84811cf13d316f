import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, sql } from 'drizzle-orm';
import { auditEvents } from '../db/schema';
import { OrgParams, PageQuery, bearer, createRouter, jsonResponse, problems } from '../lib/openapi';
import { currentMembership, requireOrgMember } from '../auth/auth.middleware';
import { requireManager } from '../organizations/organizations.store';
import { decodeCursor, encodeCursor } from '../lib/cursor';

const AuditEventSchema = z
  .object({
    id: z.string(),
    action: z.string(),
    actor: z.object({ type: z.enum(['user', 'system']), user_id: z.string().nullable() }),
    target: z.object({ type: z.string(), id: z.string() }),
    data: z.record(z.string(), z.unknown()).nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('AuditEvent');

const Query = PageQuery;

const list = createRoute({
  operationId: 'listAuditEvents',
  method: 'get',
  path: '/{org}/audit-log',
  tags: ['audit'],
  summary: 'Every invitation and membership change, newest first (owners and admins)',
  security: bearer,
  middleware: [requireOrgMember],
  request: { params: OrgParams, query: Query },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(AuditEventSchema), next_cursor: z.string().nullable() }),
      'A page of events',
    ),
    ...problems(400, 401, 403, 404),
  },
});

export const auditRoutes = createRouter().openapi(list, async (c) => {
  const { org, role } = currentMembership(c);
  requireManager(role);
  const { limit = 50, cursor } = c.req.valid('query');
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await c.var.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.organizationId, org.id),
        after ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (${after.createdAt}, ${after.id})` : undefined,
      ),
    )
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return c.json(
    {
      data: page.map((e) => ({
        id: e.id,
        action: e.action,
        actor: { type: e.actorType, user_id: e.actorId },
        target: { type: e.targetType, id: e.targetId },
        data: e.data ? (JSON.parse(e.data) as Record<string, unknown>) : null,
        ip: e.ip,
        user_agent: e.userAgent,
        created_at: new Date(e.createdAt).toISOString(),
      })),
      next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
    },
    200,
  );
});
