import { env } from 'cloudflare:workers';

/* Shared by the tests split out of the SPEC §14 hardening suite. */

export const row = <T>(query: string, ...params: unknown[]) =>
  env.DB.prepare(query)
    .bind(...params)
    .first<T>();
export const auditOf = (targetId: string, action: string) =>
  row<{ actor_type: string; actor_id: string | null; data: string }>(
    'SELECT actor_type, actor_id, data FROM audit_events WHERE target_id = ? AND action = ?',
    targetId,
    action,
  );
