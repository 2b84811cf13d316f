import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import type { Role } from './db/schema';
import type { Db } from './env';
import { openSession } from './db/session';
import { fail, type Outcome } from './errors';
import { isManager } from './lib/roles';
import { refusals } from './invitations/rules';
import type { Caller, ClientInfo, SendingContext, WriteContext } from './lib/write-context';
import * as links from './joins/links.service';
import * as domains from './joins/domains.service';
import * as requests from './joins/requests.service';
import * as invitee from './invitations/invitee.service';
import { sendReminders } from './invitations/reminders.service';
import { resolveOrgAccess } from './auth/auth.store';
import { handOff, handOffNewWebhooks } from './delivery/producer';
import { OrgEmailWindow, emailQuota } from './rate-limit/email-quota';
import * as invitations from './invitations/invitations.service';
import { type CreateInvitationInput, createInvitation } from './invitations/create.service';
import { acceptInvitation, type AcceptInput } from './invitations/acceptance.service';
import { createInvitationsBulk, type BulkInput } from './invitations/bulk.service';
import { changeMemberRole, removeMember } from './organizations/members.service';

/**
 * One write, as the Worker hands it over: the caller's secret (never looked up at the edge), the
 * organization, the client and the time. Everything else happens here.
 */
export interface WriteRequest {
  organizationId: string;
  /** The bearer secret presented (`Authorization`, or the session cookie); null when none was. */
  credential: { secret: string; sessionOnly?: boolean } | null;
  client: ClientInfo;
  now: number;
}

/** What every coordinator call answers besides its outcome: the bookmark of its D1 session. */
export interface Written {
  bookmark: string | null;
}

type Member = Caller & { role: Role };
type Task<T> = (ctx: WriteContext, caller: Member) => Promise<Outcome<T>>;

/**
 * One instance per organization (named by its id), placed by `COORDINATOR_LOCATION_HINT` beside the
 * D1 primary (SPEC §19). Every write to the organization's invitations and memberships runs here
 * whole: the caller's authentication and authorization, the rules, one D1 batch, and one hand-off
 * of what that batch queued. Writes wait their turn in an in-object queue (each `await` on D1 lets
 * the next request in); the guarded SQL behind each is the second line of defence.
 */
export class OrgCoordinator extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #emails = new OrgEmailWindow(this.ctx.storage, this.env);

  /**
   * Who may run a write: any `member` of the organization (401 without a live credential, 404 for
   * anyone else), a `manager` (an owner or admin, else 403), or `anyone` (an accept: the link is
   * the credential; a visitor's own credential, when live, says who they are).
   */
  #asMember<T extends object>(req: WriteRequest, task: Task<T>) {
    return this.#run(req, 'member', (ctx, caller) => task(ctx, caller as Member));
  }

  #asManager<T extends object>(req: WriteRequest, task: Task<T>) {
    return this.#run(req, 'manager', (ctx, caller) => task(ctx, caller as Member));
  }

  /** Any signed-in account, member or not (a way in: a link, a domain join, a withdrawal). */
  #asUser<T extends object>(req: WriteRequest, task: (ctx: WriteContext, caller: Caller) => Promise<Outcome<T>>) {
    return this.#run(req, 'user', (ctx, caller) => task(ctx, caller!));
  }

  /** The caller and their role here, from one read of the request's session. */
  async #authenticate(ctx: WriteContext, req: WriteRequest) {
    if (!req.credential) return null;
    const defer = (work: Promise<unknown>) => this.ctx.waitUntil(work);
    const access = await resolveOrgAccess(ctx.db, req.credential.secret, ctx.organizationId, ctx.now, defer);
    if (!access || (req.credential.sessionOnly && access.user.via !== 'session')) return null;
    return { ...access.user, role: access.membership?.role ?? null };
  }

  /**
   * Authenticates the caller, then runs `task` after every task queued before it, whatever their
   * outcome, in a D1 session that starts on the primary; its bookmark goes back with the outcome
   * (SPEC §13). A caller refused here never waits in the queue: only writes do (each re-reads the
   * caller's role inside it). Afterwards, off the caller's path, the one hand-off: the emails the
   * batch queued and its webhook deliveries.
   */
  async #run<T extends object>(
    req: WriteRequest,
    who: 'member' | 'manager' | 'user' | 'anyone',
    task: (ctx: WriteContext, caller: Caller | null) => Promise<Outcome<T>>,
  ): Promise<Outcome<T> & Written> {
    const session = openSession(this.env.DB, 'first-primary');
    const base: WriteContext = {
      db: session.db,
      organizationId: req.organizationId,
      actor: { userId: null, ...req.client },
      now: req.now,
    };
    const caller = await this.#authenticate(base, req);
    const refused =
      who === 'anyone'
        ? null
        : !caller
          ? fail('unauthorized', 'Sign in, or send Authorization: Bearer <token>.')
          : who === 'user'
            ? null
            : !caller.role
              ? refusals.noOrganization()
              : who === 'manager' && !isManager(caller.role)
                ? refusals.notManager()
                : null;
    if (refused) return { ...refused, bookmark: session.bookmark() };
    const ctx = { ...base, actor: { ...base.actor, userId: caller?.id ?? null } };
    const run = this.#tail.then(
      () => task(ctx, caller),
      () => task(ctx, caller),
    );
    this.#tail = run.catch(() => undefined);
    this.ctx.waitUntil(run.then((outcome) => this.#handOff(outcome, req)).catch(() => undefined));
    // What crosses back to the Worker: the outcome without its queue (handed off here).
    const outcome = await run;
    const { queued: _, ...answer } = outcome as Outcome<T> & { queued?: string[] };
    return { ...(answer as Outcome<T>), bookmark: session.bookmark() };
  }

  async #handOff(outcome: Outcome<unknown>, req: WriteRequest) {
    // A refused write wrote nothing to deliver (what it may have counted is no delivery).
    if (!outcome.ok) return;
    if (outcome.queued?.length) await handOff(this.env, outcome.queued);
    if (await this.#hasEndpoints(req.organizationId)) {
      await handOffNewWebhooks(this.env, this.#db(), req.now, req.organizationId);
    }
  }

  #db(): Db {
    return drizzle(this.env.DB);
  }

  /**
   * Whether this organization has an enabled webhook endpoint, read once and kept until the
   * endpoints change (`webhooksChanged`): most organizations have none, and then a write costs no
   * extra query. A stale `true` costs one probe; a lost hand-off is relayed by the cron.
   */
  #endpoints: boolean | null = null;
  async #hasEndpoints(organizationId: string): Promise<boolean> {
    if (this.#endpoints === null) {
      const [row] = await this.#db().all<{ any: number }>(
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

  #sending(ctx: WriteContext): SendingContext {
    return { ...ctx, quota: emailQuota(this.env, this.#emails, ctx.actor, ctx.now) };
  }

  /** Creates an invitation: its row, audit event and email's outbox row in one batch. */
  async createInvitation(req: WriteRequest, input: CreateInvitationInput) {
    return this.#asManager(req, (ctx, caller) => createInvitation(this.#sending(ctx), { ...input, inviter: caller }));
  }

  /** Many invitations as one serialized step (SPEC §12). */
  async createInvitationsBulk(req: WriteRequest, input: BulkInput) {
    return this.#asManager(req, (ctx, caller) =>
      createInvitationsBulk(this.#sending(ctx), { ...input, inviter: caller }),
    );
  }

  async resendInvitation(req: WriteRequest, input: invitations.ResendInput) {
    return this.#asManager(req, (ctx) => invitations.resendInvitation(this.#sending(ctx), input));
  }

  async revokeInvitation(req: WriteRequest, input: { id: string }) {
    return this.#asManager(req, (ctx) => invitations.revokeInvitation(ctx, input));
  }

  async updateInvitationRole(req: WriteRequest, input: { id: string; role: Role }) {
    return this.#asManager(req, (ctx) => invitations.updateInvitationRole(ctx, input));
  }

  async changeMemberRole(req: WriteRequest, input: { userId: string; role: Role }) {
    return this.#asMember(req, (ctx) => changeMemberRole(ctx, input));
  }

  async removeMember(req: WriteRequest, input: { userId: string }) {
    return this.#asMember(req, (ctx) => removeMember(ctx, input));
  }

  /**
   * Accepts an invitation: anonymously (the link is the credential), or as the signed-in visitor
   * when a live credential comes with it (one that does not resolve is no visitor at all).
   */
  async acceptInvitation(req: WriteRequest, input: Omit<AcceptInput, 'sessionUser'>) {
    return this.#run(req, 'anyone', (ctx, caller) =>
      acceptInvitation(ctx, { ...input, sessionUser: caller ? { id: caller.id, email: caller.email } : undefined }),
    );
  }

  // Ways in beyond the emailed invitation (SPEC §16). Managers manage links and decide requests
  // (the services check what only owners may do); any signed-in account redeems, joins by domain
  // and withdraws its own request.

  async createInviteLink(req: WriteRequest, input: links.CreateLinkInput) {
    return this.#asManager(req, (ctx, caller) => links.createInviteLink(ctx, caller, input));
  }

  async updateInviteLink(req: WriteRequest, input: links.UpdateLinkInput) {
    return this.#asManager(req, (ctx, caller) => links.updateInviteLink(ctx, caller, input));
  }

  async rotateInviteLink(req: WriteRequest, input: links.RotateLinkInput) {
    return this.#asManager(req, (ctx, caller) => links.rotateInviteLink(ctx, caller, input));
  }

  async deleteInviteLink(req: WriteRequest, input: { id: string }) {
    return this.#asManager(req, (ctx, caller) => links.deleteInviteLink(ctx, caller, input));
  }

  async redeemInviteLink(req: WriteRequest, input: links.RedeemInput) {
    return this.#asUser(req, (ctx, caller) => links.redeemInviteLink(ctx, caller, input));
  }

  async addDomain(req: WriteRequest, input: domains.AddDomainInput) {
    return this.#asManager(req, (ctx, caller) => domains.addDomain(ctx, caller, input));
  }

  async verifyDomain(req: WriteRequest, input: domains.VerifyDomainInput) {
    return this.#asManager(req, (ctx, caller) => domains.verifyDomain(ctx, caller, input));
  }

  async deleteDomain(req: WriteRequest, input: { id: string }) {
    return this.#asManager(req, (ctx, caller) => domains.deleteDomain(ctx, caller, input));
  }

  async joinByDomain(req: WriteRequest) {
    return this.#asUser(req, (ctx, caller) => domains.joinByDomain(ctx, caller));
  }

  async approveJoinRequest(req: WriteRequest, input: requests.ApproveInput) {
    return this.#asManager(req, (ctx, caller) => requests.approveJoinRequest(ctx, caller, input));
  }

  async rejectJoinRequest(req: WriteRequest, input: requests.RejectInput) {
    return this.#asManager(req, (ctx, caller) => requests.rejectJoinRequest(ctx, caller, input));
  }

  async withdrawJoinRequest(req: WriteRequest, input: { id: string }) {
    return this.#asUser(req, (ctx, caller) => requests.withdrawJoinRequest(ctx, caller, input));
  }

  // The invitee's side (SPEC §17). A link holder declines or asks again with the link (no account
  // needed); a signed-in invitee accepts or declines from the inbox (the session proves the email).

  async declineInvitation(req: WriteRequest, input: invitee.LinkInput) {
    return this.#run(req, 'anyone', (ctx) => invitee.declineInvitation(ctx, input));
  }

  async requestReinvite(req: WriteRequest, input: invitee.LinkInput) {
    return this.#run(req, 'anyone', (ctx) => invitee.requestReinvite(ctx, input));
  }

  async acceptMyInvitation(req: WriteRequest, input: { invitationId: string }) {
    return this.#asUser(req, (ctx, caller) => invitee.acceptMyInvitation(ctx, caller, input));
  }

  async declineMyInvitation(req: WriteRequest, input: { invitationId: string }) {
    return this.#asUser(req, (ctx, caller) => invitee.declineMyInvitation(ctx, caller, input));
  }

  /**
   * The cron's reminders for this organization (SPEC §17), as a write of its own queue: each
   * counts in the organization's hourly email limit, and those that do not fit wait for the next
   * tick. No caller: the system sends them.
   */
  async sendReminders(input: { organizationId: string; now: number }) {
    const req: WriteRequest = { ...input, credential: null, client: { ip: null, userAgent: null } };
    return this.#run(req, 'anyone', (ctx) => sendReminders(this.#sending(ctx)));
  }
}
