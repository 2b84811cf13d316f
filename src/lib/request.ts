import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Actor } from '../audit/audit.store';

/** The audit actor of this request. */
export function actorOf(c: Context<AppEnv>, userId: string | null): Actor {
  return {
    userId,
    ip: c.req.header('CF-Connecting-IP') ?? null,
    userAgent: c.req.header('User-Agent') ?? null,
  };
}
