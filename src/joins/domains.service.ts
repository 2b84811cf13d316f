import { sql } from 'drizzle-orm';
import type { DomainJoinPolicy, JoinRole } from '../db/schema';
import { auditStatement } from '../audit/audit.store';
import { runBatch } from '../db/batch';
import { isManagerSql, seatFreeSql } from '../db/fragments';
import { fail, type Failure, type Outcome } from '../errors';
import { domainAllowedSql } from '../invitations/invitation-sql';
import type { TxtLookup } from '../lib/doh';
import { newId, randomString } from '../lib/ids';
import type { Caller, WriteContext } from '../lib/write-context';
import { roleOf } from '../organizations/organizations.store';
import {
  DOMAINS_PER_ORGANIZATION,
  VERIFICATION_VALUE_PREFIX,
  type DomainResource,
  domainProblem,
  normalizeDomain,
  verificationName,
} from './domains.schemas';
import {
  domainJoinOpenSql,
  domainResourceSql,
  emailDomainOf,
  resourceOf,
  verifiedAnywhereSql,
  verifiedBySql,
} from './domains.store';
import {
  isMemberSql,
  joinRefusals,
  joinStatements,
  PENDING_REQUESTS_LIMIT,
  decideRequestQuota,
  requestStatements,
  returnedIds,
} from './join-sql';
import { isPublicEmailDomain } from './public-domains';
import type { JoinRequestResource } from './requests.store';

/*
 * Verified domains and domain join (SPEC §16), as the organization's coordinator runs them: one at
 * a time, each a guarded batch with its audit event (and so its webhook event). The DNS lookup is
 * not made here: the Worker makes it before calling (a slow resolver must not hold the coordinator),
 * and the verification re-checks what it found against the stored token.
 */

export type AddDomainInput = { domain: string };
/** `lookup`: what the Worker's DNS lookup found, or null when it made none (no such row then). */
export type VerifyDomainInput = { id: string; lookup: TxtLookup | null };

const ownerOnly = (org: string, caller: Caller) => isManagerSql(org, caller.id, true);

export const domainRefusals = {
  ownersOnly: () => fail('forbidden', 'Only owners can add, verify and remove the organization’s domains.'),
  notFound: () => fail('not_found', 'No such domain in this organization.'),
  invalid: (problem: string) => fail('validation_failed', `domain: ${problem}`),
  publicDomain: (domain: string) =>
    fail(
      'public_email_domain',
      `${domain} is a public mailbox domain: anyone can have an address there, so it cannot stand for an organization.`,
    ),
  taken: (domain: string) => fail('domain_taken', `${domain} is verified by another organization.`),
  alreadyAdded: (domain: string, status: string) =>
    fail('invalid_state', `${domain} is already added to this organization (${status}).`),
  tooMany: () =>
    fail(
      'invalid_state',
      `An organization can have at most ${DOMAINS_PER_ORGANIZATION} domains. Remove one before adding another.`,
    ),
  lookupFailed: (name: string, problem: string) =>
    fail(
      'domain_not_verified',
      `The TXT record at ${name} could not be looked up: ${problem}. Nothing changed; try again in a moment.`,
    ),
  notLookedUp: () => fail('domain_not_verified', 'The TXT record was not looked up. Nothing changed; try again.'),
  recordMissing: (name: string, expected: string, found: string[]) =>
    fail(
      'domain_not_verified',
      `${found.length ? `The TXT records at ${name} are ${shown(found)}; none is` : `No TXT record was found at ${name}; expected`} "${expected}". DNS changes can take a few minutes to be seen; try again later.`,
    ),
} satisfies Record<string, (...args: never[]) => Failure>;

/** At most 5 values, 100 characters each, without control characters: what a refusal may quote. */
function shown(values: string[]) {
  const quoted = values
    .slice(0, 5)
    .map((v) => v.replace(/[\u0000-\u001f\u007f]/g, '?'))
    .map((v) => `"${v.length > 100 ? `${v.slice(0, 100)}…` : v}"`);
  return quoted.join(', ') + (values.length > 5 ? ` (and ${values.length - 5} more)` : '');
}

const isUniqueViolation = (err: unknown) =>
  /UNIQUE/i.test(String(err) + String((err as { cause?: unknown }).cause ?? ''));

/** What adding `domain` depends on, read in one round trip. */
async function addState(ctx: WriteContext, domain: string) {
  const org = ctx.organizationId;
  const [row] = await ctx.db.all<{ mine: string | null; count: number; taken: number }>(sql`SELECT
    (SELECT status FROM organization_domains WHERE organization_id = ${org} AND domain = ${domain}) AS mine,
    (SELECT count(*) FROM organization_domains WHERE organization_id = ${org}) AS count,
    ${verifiedAnywhereSql(domain)} AS taken`);
  return row;
}

function decideAdd(domain: string, state: Awaited<ReturnType<typeof addState>>): Failure | null {
  if (state.mine) return domainRefusals.alreadyAdded(domain, state.mine);
  if (state.taken) return domainRefusals.taken(domain);
  if (state.count >= DOMAINS_PER_ORGANIZATION) return domainRefusals.tooMany();
  return null;
}

/** Adds a domain, pending until its TXT record is found (owners only). */
export async function addDomain(
  ctx: WriteContext,
  caller: Caller,
  input: AddDomainInput,
): Promise<Outcome<DomainResource>> {
  if (caller.role !== 'owner') return domainRefusals.ownersOnly();
  const domain = normalizeDomain(input.domain);
  const problem = domainProblem(domain);
  if (problem) return domainRefusals.invalid(problem);
  if (isPublicEmailDomain(domain)) return domainRefusals.publicDomain(domain);
  const refused = decideAdd(domain, await addState(ctx, domain));
  if (refused) return refused;
  const { organizationId: org, now } = ctx;
  const id = newId('dom');
  const added = sql`EXISTS (SELECT 1 FROM organization_domains WHERE id = ${id})`;
  let results: D1Result[];
  try {
    results = await runBatch(ctx.db, [
      sql`INSERT INTO organization_domains (id, organization_id, domain, status, verification_token, verified_at, created_by, created_at, updated_at)
        SELECT ${id}, ${org}, ${domain}, 'pending', ${randomString(32)}, NULL, ${caller.id}, ${now}, ${now}
        WHERE ${ownerOnly(org, caller)} AND NOT ${verifiedAnywhereSql(domain)}
          AND (SELECT count(*) FROM organization_domains WHERE organization_id = ${org}) < ${DOMAINS_PER_ORGANIZATION}`,
      auditStatement(
        ctx.actor,
        { organizationId: org, action: 'domain.added', targetType: 'domain', targetId: id, data: { domain } },
        now,
        added,
      ),
      domainResourceSql(id),
    ]);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return domainRefusals.alreadyAdded(domain, 'pending');
  }
  const resource = resourceOf(results[2].results);
  if (results[0].meta.changes === 1 && resource) return { ok: true, value: resource };
  if ((await roleOf(ctx.db, org, caller.id)) !== 'owner') return domainRefusals.ownersOnly();
  return decideAdd(domain, await addState(ctx, domain)) ?? fail('conflict');
}

/** A domain of this organization, and whether another organization has verified the same name. */
async function domainState(ctx: WriteContext, id: string) {
  const [row] = await ctx.db.all<{ domain: string; status: string; token: string; taken: number }>(sql`
    SELECT d.domain, d.status, d.verification_token AS token,
      EXISTS (SELECT 1 FROM organization_domains v WHERE v.domain = d.domain AND v.status = 'verified' AND v.id != d.id) AS taken
    FROM organization_domains d WHERE d.id = ${id} AND d.organization_id = ${ctx.organizationId}`);
  return row;
}

async function currentResource(ctx: WriteContext, id: string) {
  return resourceOf(await ctx.db.all(domainResourceSql(id)));
}

/**
 * Verifies a pending domain from what the Worker's DNS lookup found (owners only): the stored
 * token's value among the TXT values makes it `verified`, once across every organization (the
 * guard, and the partial unique index behind it). A verified domain is answered as it is.
 */
export async function verifyDomain(
  ctx: WriteContext,
  caller: Caller,
  input: VerifyDomainInput,
): Promise<Outcome<DomainResource>> {
  if (caller.role !== 'owner') return domainRefusals.ownersOnly();
  const { organizationId: org, now } = ctx;
  const state = await domainState(ctx, input.id);
  if (!state) return domainRefusals.notFound();
  const name = verificationName(state.domain);
  if (state.status === 'verified') {
    const resource = await currentResource(ctx, input.id);
    return resource ? { ok: true, value: resource } : domainRefusals.notFound();
  }
  if (!input.lookup) return domainRefusals.notLookedUp();
  if (!input.lookup.ok) return domainRefusals.lookupFailed(name, input.lookup.problem);
  const expected = `${VERIFICATION_VALUE_PREFIX}${state.token}`;
  if (!input.lookup.values.some((v) => v.trim() === expected)) {
    return domainRefusals.recordMissing(name, expected, input.lookup.values);
  }
  if (state.taken) return domainRefusals.taken(state.domain);
  const verified = sql`EXISTS (SELECT 1 FROM organization_domains WHERE id = ${input.id} AND status = 'verified' AND verified_at = ${now})`;
  let results: D1Result[];
  try {
    results = await runBatch(ctx.db, [
      sql`UPDATE organization_domains SET status = 'verified', verified_at = ${now}, updated_at = ${now}
        WHERE id = ${input.id} AND organization_id = ${org} AND status = 'pending' AND ${ownerOnly(org, caller)}
          AND NOT ${verifiedAnywhereSql(state.domain)}`,
      auditStatement(
        ctx.actor,
        {
          organizationId: org,
          action: 'domain.verified',
          targetType: 'domain',
          targetId: input.id,
          data: { domain: state.domain },
        },
        now,
        verified,
      ),
      domainResourceSql(input.id),
    ]);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return domainRefusals.taken(state.domain);
  }
  const resource = resourceOf(results[2].results);
  if (results[0].meta.changes === 1 && resource) return { ok: true, value: resource };
  // Nothing changed: say why, as the state is now.
  if ((await roleOf(ctx.db, org, caller.id)) !== 'owner') return domainRefusals.ownersOnly();
  const after = await domainState(ctx, input.id);
  if (!after) return domainRefusals.notFound();
  if (after.status === 'verified' && resource) return { ok: true, value: resource };
  if (after.taken) return domainRefusals.taken(after.domain);
  return fail('conflict');
}

/** Removes a domain, pending or verified (owners only). Members who joined by it stay members. */
export async function deleteDomain(
  ctx: WriteContext,
  caller: Caller,
  input: { id: string },
): Promise<Outcome<{ id: string }>> {
  if (caller.role !== 'owner') return domainRefusals.ownersOnly();
  const { organizationId: org, now } = ctx;
  const theRow = sql`organization_domains WHERE id = ${input.id} AND organization_id = ${org}`;
  const [, deleted] = await runBatch(ctx.db, [
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'domain.removed',
        targetType: 'domain',
        targetId: input.id,
        data: sql`(SELECT json_object('domain', domain, 'status', status) FROM ${theRow})`,
      },
      now,
      sql`EXISTS (SELECT 1 FROM ${theRow}) AND ${ownerOnly(org, caller)}`,
    ),
    sql`DELETE FROM ${theRow} AND ${ownerOnly(org, caller)}`,
  ]);
  if (deleted.meta.changes === 1) return { ok: true, value: { id: input.id } };
  if ((await roleOf(ctx.db, org, caller.id)) !== 'owner') return domainRefusals.ownersOnly();
  return domainRefusals.notFound();
}

/** What a domain join is decided on, read in one round trip. */
async function joinState(ctx: WriteContext, caller: Caller) {
  const { organizationId: org, now } = ctx;
  const [row] = await ctx.db.all<{
    id: string;
    name: string;
    slug: string;
    policy: DomainJoinPolicy;
    role: JoinRole;
    verified: number;
    member: number;
    pending: number;
    pending_count: number;
    seat: number;
    domain_ok: number;
  }>(sql`SELECT o.id, o.name, o.slug, o.domain_join AS policy, o.domain_join_role AS role,
      ${verifiedBySql(org, emailDomainOf(caller.email))} AS verified,
      ${isMemberSql(org, caller.id)} AS member,
      EXISTS (SELECT 1 FROM join_requests WHERE organization_id = ${org} AND user_id = ${caller.id} AND status = 'pending') AS pending,
      (SELECT count(*) FROM join_requests WHERE organization_id = ${org} AND status = 'pending') AS pending_count,
      ${seatFreeSql(org, now, 1, caller.email)} AS seat,
      ${domainAllowedSql(caller.email)} AS domain_ok
    FROM organizations o WHERE o.id = ${org}`);
  return row;
}

/** Whom a domain join does not admit, and why; else how they join. */
function decideJoin(
  state: Awaited<ReturnType<typeof joinState>>,
): Failure | { policy: 'auto' | 'request'; role: JoinRole } {
  // Anyone not at a verified domain of an organization open to domain join: as if it did not exist.
  if (!state) return fail('not_found', 'No such organization.');
  if (state.member) return joinRefusals.alreadyMember();
  if (state.verified !== 1 || state.policy === 'off') return fail('not_found', 'No such organization.');
  if (state.domain_ok !== 1) return joinRefusals.domainNotAllowed();
  if (state.policy === 'auto')
    return state.seat === 1 ? { policy: 'auto', role: state.role } : joinRefusals.seatLimit();
  if (state.pending) return joinRefusals.requestPending();
  if (state.pending_count >= PENDING_REQUESTS_LIMIT) return joinRefusals.tooManyRequests();
  return { policy: 'request', role: state.role };
}

/** What `POST /v1/organizations/{org}/join` answers: a membership (200) or a join request (202). */
export type DomainJoinResult =
  | { organization: { id: string; name: string; slug: string }; role: JoinRole }
  | { join_request: JoinRequestResource };

/**
 * Joins the organization by the caller's email domain (SPEC §16): with `domain_join` = `auto` as a
 * member with `domain_join_role` (seats apply), with `request` as a join request for its owners and
 * admins to decide. Anyone else gets 404; each rule also guards the INSERT.
 */
export async function joinByDomain(ctx: WriteContext, caller: Caller): Promise<Outcome<DomainJoinResult>> {
  const state = await joinState(ctx, caller);
  const decided = decideJoin(state);
  if ('ok' in decided) return decided;
  const org = ctx.organizationId;
  const joiner = { id: caller.id, email: caller.email };
  const open = domainJoinOpenSql(org, caller.email, decided.policy, decided.role);
  const domain = emailDomainOf(caller.email);
  if (decided.policy === 'auto') {
    const [inserted] = await runBatch(ctx.db, joinStatements(ctx, joiner, decided.role, 'domain', [open], { domain }));
    if (inserted.meta.changes === 1) {
      return {
        ok: true,
        value: { organization: { id: state.id, name: state.name, slug: state.slug }, role: decided.role },
      };
    }
  } else {
    const limited = await decideRequestQuota(ctx, caller.id);
    if (limited) return limited;
    const id = newId('jrq');
    const statements = requestStatements(ctx, joiner, { id, source: 'domain', linkId: null, role: decided.role }, [
      open,
    ]);
    let results: D1Result[];
    try {
      results = await runBatch(ctx.db, [
        ...statements,
        sql`SELECT resource FROM join_request_resources WHERE id = ${id}`,
      ]);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return joinRefusals.requestPending();
    }
    const row = results.at(-1)?.results?.[0] as { resource?: string } | undefined;
    if (results[0].meta.changes === 1 && row?.resource) {
      return {
        ok: true,
        value: { join_request: JSON.parse(row.resource) as JoinRequestResource },
        queued: returnedIds(results[statements.length - 1]),
      };
    }
  }
  // The guarded INSERT wrote nothing: something changed since the read (a setting, a seat taken).
  const now = decideJoin(await joinState(ctx, caller));
  return 'ok' in now ? now : fail('conflict');
}
