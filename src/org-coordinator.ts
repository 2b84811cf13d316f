import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './db/schema';
import type { Role } from './db/schema';
import type { Db } from './env';
import type { Outcome } from './errors';
import type { Actor } from './audit/audit.store';
import { deliverInvitation } from './email/delivery';
import * as invitationsService from './invitations/invitations.service';
import { acceptInvitation, type AcceptInput, type AcceptResult } from './invitations/acceptance.service';
import { changeMemberRole, removeMember } from './organizations/members.service';

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
    return { db: this.#db, organizationId: call.organizationId, actor: call.actor, now: call.now };
  }

  /** After a write that changed the link, send the email outside the queue. */
  async #thenDeliver(outcome: Outcome<{ id: string }>, now: number): Promise<Outcome<{ id: string }>> {
    if (outcome.ok) await deliverInvitation(this.env, this.#db, outcome.value.id, now);
    return outcome;
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
