import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import * as schema from './db/schema';
import type { Locale, Role } from './db/schema';
import type { Context } from 'hono';
import type { AppEnv, Db } from './env';
import { newestBookmark, openSession } from './db/session';
import { fail, type Failure, type Outcome } from './errors';
import { hitAll, ipBucket, limitFor } from './rate-limit/rate-limit';
import { handOffNewWebhooks } from './delivery/producer';
import type { Actor } from './audit/audit.store';
import * as invitationsService from './invitations/invitations.service';
import { acceptInvitation, type AcceptInput, type AcceptResult } from './invitations/acceptance.service';
import { createInvitationsBulk } from './invitations/bulk.service';
import { changeMemberRole, removeMember } from './organizations/members.service';

/** Storage key prefix of the hourly invitation-email counter; the window start follows. */
export const RATE_PREFIX = 'rate:org-emails:';

interface Call {
  organizationId: string;
  actor: Actor;
  now: number;
}

/**
 * One instance per organization (named by its id): every write to that organization's invitations
 * and memberships passes through here. Inside a Durable Object each `await` on D1 lets the next
 * request in, so writes also wait their turn in an in-object queue; the guarded SQL behind each is
 * the second line of defence.
 */
export class OrgCoordinator extends DurableObject<Env> {
  readonly #db: Db = drizzle(this.env.DB, { schema });
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `task` after every task queued before it, whatever their outcome. Afterwards, off the
   * caller's path and outside the queue, the webhook deliveries its batch wrote (if any) go to the
   * delivery queue.
   */
  #serialize<T extends object>(
    call: Call,
    task: (ctx: invitationsService.ServiceContext) => Promise<T>,
  ): Promise<T & Written> {
    // Each call's queries run in a D1 session that starts on the primary; its bookmark goes back
    // with the result, so the response's `x-d1-bookmark` covers this write (SPEC §13). A later read
    // of the session may come from a replica at least as new as its first query: enough, because
    // every write to this organization's invitations and memberships passes through this object,
    // and each write is a guarded statement, which D1 runs on the primary.
    const session = openSession(this.env.DB, 'first-primary');
    const run = this.#tail.then(
      () => task(this.#ctx(call, session.db)),
      () => task(this.#ctx(call, session.db)),
    );
    this.#tail = run.catch(() => undefined);
    const handOff = run
      .then(async () => {
        if (await this.#hasEndpoints(call.organizationId))
          await handOffNewWebhooks(this.env, this.#db, call.now, call.organizationId);
      })
      .catch(() => undefined);
    this.ctx.waitUntil(handOff);
    return run.then((result) => ({ ...result, bookmark: session.bookmark() }));
  }

  /**
   * Whether this organization has an enabled webhook endpoint, read once and kept until the
   * endpoints change (`webhooksChanged`): most organizations have none, and then a write costs no
   * extra query. A stale `true` costs one probe; a lost hand-off is relayed by the cron.
   */
  #endpoints: boolean | null = null;
  async #hasEndpoints(organizationId: string): Promise<boolean> {
    if (this.#endpoints === null) {
      const [row] = await this.#db.all<{ any: number }>(
        sql`SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE organization_id = ${organizationId} AND enabled = 1) AS any`,
      );
      this.#endpoints = row?.any === 1;
    }
    return this.#endpoints;
  }

  /** Called after an endpoint is created, enabled, disabled or deleted. */
  async webhooksChanged(): Promise<void> {
    this.#endpoints = null;
  }

  #ctx(call: Call, db: Db): invitationsService.ServiceContext {
    return {
      db,
      organizationId: call.organizationId,
      actor: call.actor,
      now: call.now,
      chargeEmail: (emails = 1) => this.#chargeEmail(call, emails),
      emailQuota: {
        counters: this.#emailCounters(call),
        orgHasRoom: async (emails: number) =>
          (await this.#orgWindow(call.now)).count + emails <= limitFor(this.env, 'invitationEmailsPerOrg').max,
        chargeOrg: async (emails: number) => void (await this.#chargeOrgEmail(call.now, emails)),
      },
    };
  }

  /**
   * The hourly invitation-email limits, checked once everything else allowed the send. Per
   * inviting account and per IP (SPEC §14, across organizations): counters in D1, seen by every
   * organization's object. Per organization: every create and resend of this organization passes
   * through this object one at a time, so its own storage holds the counter: no D1 round trip, and
   * exact under any concurrency.
   */
  async #chargeEmail(call: Call, emails = 1): Promise<Failure | null> {
    const { now } = call;
    // The organization's own limit first: a send it refuses charges no D1 counter.
    const limit = limitFor(this.env, 'invitationEmailsPerOrg');
    if ((await this.#orgWindow(now)).count + emails > limit.max) return this.#chargeOrgEmail(now, emails);
    // Both counters in one D1 round trip.
    const counters = this.#emailCounters(call);
    const over = await hitAll(
      this.#db,
      counters.map(({ bucket, limit }) => ({ bucket, limit })),
      now,
      emails,
    );
    if (over) {
      const who = over.index === 0 ? 'Your account' : 'Your network';
      return fail(
        'rate_limited',
        `${who} sent too many invitation emails. Try again in ${over.wait} seconds.`,
        over.wait,
      );
    }
    return this.#chargeOrgEmail(now, emails);
  }

  /** The per-account and per-IP counters (rows of `rate_limits`) an invitation email counts in. */
  #emailCounters({ actor, now }: Call) {
    return [
      { bucket: `invitation-emails:account:${actor.userId}`, limit: limitFor(this.env, 'invitationEmailsPerAccount') },
      { bucket: `invitation-emails:ip:${ipBucket(actor.ip)}`, limit: limitFor(this.env, 'invitationEmailsPerIp') },
    ].map((c) => ({ ...c, windowStart: now - (now % c.limit.windowMs), max: c.limit.max }));
  }

  /** The organization's email count in the current window (loaded from storage on first use). */
  async #orgWindow(now: number) {
    const window = now - (now % limitFor(this.env, 'invitationEmailsPerOrg').windowMs);
    if (this.#emails?.window !== window) {
      // First use in this window (or after a restart): load it, and drop the previous window.
      const stored = (await this.ctx.storage.get<number>(`${RATE_PREFIX}${window}`)) ?? 0;
      if (this.#emails) void this.ctx.storage.delete(`${RATE_PREFIX}${this.#emails.window}`);
      this.#emails = { window, count: stored };
    }
    return this.#emails;
  }

  async #chargeOrgEmail(now: number, emails = 1): Promise<Failure | null> {
    const limit = limitFor(this.env, 'invitationEmailsPerOrg');
    const counter = await this.#orgWindow(now);
    counter.count += emails;
    // Write-through; storage writes of one object are ordered, so no await is needed for safety.
    void this.ctx.storage.put(`${RATE_PREFIX}${counter.window}`, counter.count);
    if (counter.count <= limit.max) return null;
    const wait = Math.max(1, Math.ceil((counter.window + limit.windowMs - now) / 1000));
    return fail(
      'rate_limited',
      `This organization sent too many invitation emails. Try again in ${wait} seconds.`,
      wait,
    );
  }

  /** The current window's email count, cached (the storage copy survives restarts). */
  #emails: { window: number; count: number } | null = null;

  /** Creates an invitation; its email's outbox row is in the same batch, and the caller hands it to the queue. */
  async createInvitation(call: Call, input: invitationsService.CreateInvitationInput) {
    return this.#serialize(call, (ctx) => invitationsService.createInvitation(ctx, input));
  }

  /** Many invitations as one serialized step (SPEC §12); the caller hands the outbox rows to the queue. */
  async createInvitationsBulk(call: Call, input: Parameters<typeof createInvitationsBulk>[1]) {
    return this.#serialize(call, (ctx) => createInvitationsBulk(ctx, input));
  }

  async resendInvitation(call: Call, input: { id: string; expiresInDays?: number; locale?: Locale }) {
    return this.#serialize(call, (ctx) => invitationsService.resendInvitation(ctx, input));
  }

  async revokeInvitation(call: Call, input: { id: string }) {
    return this.#serialize(call, (ctx) => invitationsService.revokeInvitation(ctx, input));
  }

  async updateInvitationRole(call: Call, input: { id: string; role: Role }) {
    return this.#serialize(call, (ctx) => invitationsService.updateInvitationRole(ctx, input));
  }

  async acceptInvitation(call: Call, input: AcceptInput): Promise<Outcome<AcceptResult & { outboxId?: string }>> {
    return this.#serialize(call, (ctx) => acceptInvitation(ctx, input));
  }

  async changeMemberRole(call: Call, input: { userId: string; role: Role }) {
    return this.#serialize(call, (ctx) => changeMemberRole(ctx, input));
  }

  async removeMember(call: Call, input: { userId: string }) {
    return this.#serialize(call, (ctx) => removeMember(ctx, input));
  }
}

/** What every coordinator call answers besides its result: the bookmark of its D1 session. */
export interface Written {
  bookmark: string | null;
}

/** The stub for one organization's coordinator. */
export function coordinatorFor(env: Env, organizationId: string) {
  return env.ORG_COORDINATOR.get(env.ORG_COORDINATOR.idFromName(organizationId));
}

/**
 * The coordinator, for a request: each call's bookmark is kept in the request's context
 * (`writeBookmark`), so the response's `x-d1-bookmark` is at least as new as the write, and the
 * request's later reads run in a session that starts there.
 */
export function coordinator(c: Context<AppEnv>, organizationId: string): ReturnType<typeof coordinatorFor> {
  const stub = coordinatorFor(c.env, organizationId);
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        // Called through the stub (an RPC method is not a plain function: no `apply`).
        const result = await (target as unknown as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[prop](
          ...args,
        );
        const bookmark = newestBookmark(c.get('writeBookmark'), (result as Partial<Written> | undefined)?.bookmark);
        if (bookmark) {
          c.set('writeBookmark', bookmark);
          // What the request reads next (the resource it answers with) sees this write.
          c.set('db', openSession(c.env.DB, 'first-primary', bookmark).db);
        }
        return result;
      };
    },
  });
}
