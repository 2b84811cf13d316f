import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Actor, ClientInfo } from './write-context';

/** The client IP as Cloudflare reports it (`wrangler dev` sets it to 127.0.0.1), or null. */
export const clientIp = (header: string | undefined) => (header && header.length <= 64 ? header : null);

/** The client as Cloudflare reports it (`wrangler dev` sets CF-Connecting-IP to 127.0.0.1). */
export function clientInfo(c: Context<AppEnv>): ClientInfo {
  return {
    // Oversized is no address at all (it counts in the `unknown` bucket), never a cut one.
    ip: clientIp(c.req.header('CF-Connecting-IP')),
    userAgent: c.req.header('User-Agent')?.slice(0, 256) ?? null,
  };
}

/** The audit actor of this request. */
export function actorOf(c: Context<AppEnv>, userId: string | null): Actor {
  return { userId, ...clientInfo(c) };
}
