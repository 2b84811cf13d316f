import { is, SQL, sql } from 'drizzle-orm';
import type { Db } from '../env';
import { newId } from '../lib/ids';

/** Who did something, from where. `userId` null means the system (cron). */
export interface Actor {
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditInput {
  organizationId: string;
  action: string;
  targetType: 'invitation' | 'membership' | 'organization' | 'webhook';
  targetId: string;
  /** A JSON object, or SQL producing one (for facts only the batch itself decides). */
  data?: Record<string, unknown> | SQL;
}

/**
 * An audit insert to put in the same D1 batch as the change it records. With `onlyIf`, the row is
 * written only when the change really happened (a guarded update that lost writes no event).
 * Never pass a token in `data`.
 */
/** `actorIdSql` overrides the actor id with a subquery (an account resolved inside the same batch). */
export function auditStatement(_db: Db, actor: Actor, event: AuditInput, now: number, onlyIf?: SQL, actorIdSql?: SQL) {
  return sql`INSERT INTO audit_events
    (id, organization_id, actor_type, actor_id, action, target_type, target_id, data, ip, user_agent, created_at)
    SELECT ${newId('aud')}, ${event.organizationId}, ${actor.userId || actorIdSql ? 'user' : 'system'}, ${actorIdSql ?? actor.userId},
      ${event.action}, ${event.targetType}, ${event.targetId}, ${event.data === undefined ? null : is(event.data, SQL) ? event.data : JSON.stringify(event.data)},
      ${actor.ip?.slice(0, 64) ?? null}, ${actor.userAgent?.slice(0, 512) ?? null}, ${now}
    WHERE ${onlyIf ?? sql`1`}`;
}
