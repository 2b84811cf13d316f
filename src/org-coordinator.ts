import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './db/schema';
import type { Role } from './db/schema';
import type { Db } from './env';
import { fail, type Failure, type Outcome } from './errors';
import { limitFor } from './rate-limit/rate-limit';
import type { Actor } from './audit/audit.store';
import { deliverInvitation } from './email/delivery';
import * as invitationsService from './invitations/invitations.service';
import { acceptInvitation, type AcceptInput, type AcceptResult } from './invitations/acceptance.service';
import { changeMemberRole, removeMember } from './organizations/members.service';

/** Total send attempts for one link (the first plus four retries), and the waits between them. */
export const DELIVERY_ATTEMPTS = 5;
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 15 * 60_000, 40 * 60_000];
const RETRY_PREFIX = 'delivery:';
/** Storage key prefix of the hourly invitation-email counter; the window start follows. */
export const RATE_PREFIX = 'rate:org-emails:';

/** An email to (re)send, kept in the object's own storage until it is sent or given up. */
export interface PendingDelivery {
  invitationId: string;
  tokenId: string;
  /** Attempts made so far (0 while the first, background attempt runs). */
  attempt: number;
  dueAt: number;
}

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

  /** Runs `task` after every task queued before it, whatever their outcome. */
  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #ctx(call: Call) {
    return { db: this.#db, organizationId: call.organizationId, actor: call.actor, now: call.now, chargeEmail: () => this.#chargeEmail(call.now) };
  }

  /**
   * The organization's hourly invitation-email limit. Every create and resend of this
   * organization passes through this object one at a time, so its own storage holds the counter:
   * no D1 round trip, and exact under any concurrency.
   */
  async #chargeEmail(now: number): Promise<Failure | null> {
    const limit = limitFor(this.env, 'invitationEmailsPerOrg');
    const window = now - (now % limit.windowMs);
    if (this.#emails?.window !== window) {
      // First use in this window (or after a restart): load it, and drop the previous window.
      const stored = (await this.ctx.storage.get<number>(`${RATE_PREFIX}${window}`)) ?? 0;
      if (this.#emails) void this.ctx.storage.delete(`${RATE_PREFIX}${this.#emails.window}`);
      this.#emails = { window, count: stored };
    }
    this.#emails.count += 1;
    // Write-through; storage writes of one object are ordered, so no await is needed for safety.
    void this.ctx.storage.put(`${RATE_PREFIX}${window}`, this.#emails.count);
    if (this.#emails.count <= limit.max) return null;
    const wait = Math.max(1, Math.ceil((window + limit.windowMs - now) / 1000));
    return fail('rate_limited', `This organization sent too many invitation emails. Try again in ${wait} seconds.`, wait);
  }

  /** The current window's email count, cached (the storage copy survives restarts). */
  #emails: { window: number; count: number } | null = null;


  /** Background sends still running (see `drain`). */
  readonly #inflight = new Set<Promise<void>>();

  /**
   * After a write that issued a link: record the delivery in this object's storage first (an
   * outbox the alarm works through), then send in the background, so the response never waits
   * on the mail system and no email is lost if the send or this object dies midway.
   */
  async #thenDeliver<T extends { id: string; tokenId?: string; replayed?: boolean }>(outcome: Outcome<T>, now: number): Promise<Outcome<T>> {
    if (outcome.ok && !outcome.value.replayed && outcome.value.tokenId) {
      const entry = { invitationId: outcome.value.id, tokenId: outcome.value.tokenId, attempt: 0 };
      await this.#scheduleRetry(entry, now + RETRY_DELAYS_MS[0]);
      const task: Promise<void> = this.#sendNow(entry).finally(() => this.#inflight.delete(task));
      this.#inflight.add(task);
    }
    return outcome;
  }

  async #sendNow(entry: Omit<PendingDelivery, 'dueAt'>) {
    const key = `${RETRY_PREFIX}${entry.invitationId}`;
    const sent = await deliverInvitation(this.env, this.#db, entry.invitationId, Date.now(), { tokenId: entry.tokenId, finalAttempt: false });
    const queued = await this.ctx.storage.get<PendingDelivery>(key);
    if (!queued || queued.tokenId !== entry.tokenId) return; // a resend replaced this link meanwhile
    if (sent.outcome === 'failed') await this.#scheduleRetry({ ...entry, attempt: 1 }, Date.now() + RETRY_DELAYS_MS[0]);
    else await this.ctx.storage.delete(key);
  }

  async #scheduleRetry(entry: Omit<PendingDelivery, 'dueAt'>, dueAt: number) {
    await this.ctx.storage.put<PendingDelivery>(`${RETRY_PREFIX}${entry.invitationId}`, { ...entry, dueAt });
    this.#alarmAt ??= await this.ctx.storage.getAlarm();
    if (this.#alarmAt === null || this.#alarmAt > dueAt) {
      await this.ctx.storage.setAlarm(dueAt);
      this.#alarmAt = dueAt;
    }
  }

  /** The alarm time as last set or read here (undefined: not read yet). */
  #alarmAt: number | null | undefined = undefined;


  /** Resolves when every background send started so far has finished (tests, graceful checks). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Retries failed invitation emails with exponential backoff: 5 attempts in all over about an
   * hour, then `email_delivery = 'failed'` (a resend always remains possible).
   */
  async alarm() {
    this.#alarmAt = null;
    const entries = await this.ctx.storage.list<PendingDelivery>({ prefix: RETRY_PREFIX });
    for (const [key, entry] of entries) {
      const now = Date.now();
      if (entry.dueAt > now) continue;
      const attempt = entry.attempt + 1;
      const final = attempt >= DELIVERY_ATTEMPTS;
      const sent = await deliverInvitation(this.env, this.#db, entry.invitationId, now, { tokenId: entry.tokenId, finalAttempt: final });
      // The send took time: if a resend queued a new link meanwhile, that entry is its own.
      const current = await this.ctx.storage.get<PendingDelivery>(key);
      if (!current || current.tokenId !== entry.tokenId) continue;
      if (sent.outcome === 'failed' && !final) {
        await this.ctx.storage.put<PendingDelivery>(key, { ...entry, attempt, dueAt: Date.now() + RETRY_DELAYS_MS[attempt - 1] });
      } else {
        await this.ctx.storage.delete(key);
      }
    }
    // Re-arm for the earliest entry left, from a fresh read (sends may have queued more).
    const left = await this.ctx.storage.list<PendingDelivery>({ prefix: RETRY_PREFIX });
    const next = Math.min(...[...left.values()].map((e) => e.dueAt));
    if (Number.isFinite(next)) {
      this.#alarmAt = Math.max(next, Date.now());
      await this.ctx.storage.setAlarm(this.#alarmAt);
    }
  }


  async createInvitation(call: Call, input: invitationsService.CreateInvitationInput) {
    const outcome = await this.#serialize(() => invitationsService.createInvitation(this.#ctx(call), input));
    return this.#thenDeliver(outcome, call.now);
  }

  async resendInvitation(call: Call, input: { id: string; expiresInDays?: number }) {
    const outcome = await this.#serialize(() => invitationsService.resendInvitation(this.#ctx(call), input));
    return this.#thenDeliver(outcome, call.now);
  }

  async revokeInvitation(call: Call, input: { id: string }) {
    return this.#serialize(() => invitationsService.revokeInvitation(this.#ctx(call), input));
  }

  async updateInvitationRole(call: Call, input: { id: string; role: Role }) {
    return this.#serialize(() => invitationsService.updateInvitationRole(this.#ctx(call), input));
  }

  async acceptInvitation(call: Call, input: AcceptInput): Promise<Outcome<AcceptResult>> {
    return this.#serialize(() => acceptInvitation(this.#ctx(call), input));
  }

  async changeMemberRole(call: Call, input: { userId: string; role: Role }) {
    return this.#serialize(() => changeMemberRole(this.#ctx(call), input));
  }

  async removeMember(call: Call, input: { userId: string }) {
    return this.#serialize(() => removeMember(this.#ctx(call), input));
  }
}

/** The stub for one organization's coordinator. */
export function coordinatorFor(env: Env, organizationId: string) {
  return env.ORG_COORDINATOR.get(env.ORG_COORDINATOR.idFromName(organizationId));
}
