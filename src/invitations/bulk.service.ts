import { and, eq, sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { idempotencyKeys, type Role } from '../db/schema';
import { ERROR_CODES, fail, problemBody, type ErrorCode, type FieldError, type Outcome } from '../errors';
import { auditStatement } from '../audit/audit.store';
import { newId } from '../lib/ids';
import { newOutboxId, outboxInsert } from '../delivery/outbox';
import { PENDING_LIMIT, asLocale, type InvitationResource } from './invitations.store';
import { domainAllowed, parseDomains } from '../organizations/domains';
import type { Locale } from '../db/schema';
import {
  DAY_MS,
  IDEMPOTENCY_TTL_MS,
  domainRefusal,
  expireStaleSql,
  expiredAuditSql,
  livePendingCountSql,
  memberSql,
  newInvitationResource,
  type ServiceContext,
} from './invitations.service';

/** At most this many rows per bulk request (SPEC §12). */
export const BULK_MAX_ROWS = 50;

/** A row that passed validation (the route validates each row on its own). */
export interface BulkRow {
  email: string;
  role: Role;
  message: string | null;
  expiresInDays: number;
  locale?: Locale;
}

/**
 * One row's answer (SPEC §12 `{email, status, invitation?, error?}`): exactly what a single create
 * would have answered for it, the problem of §4 as `error`, in input order.
 */
export type BulkResult =
  | { index: number; email: string; status: 201; invitation: InvitationResource }
  | { index: number; email: string; status: number; error: ReturnType<typeof problemBody> };

export const refusal = (
  index: number,
  email: string,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
): BulkResult => ({
  index,
  email,
  status: ERROR_CODES[code].status,
  error: problemBody(code, detail, errors),
});

/**
 * Creates many invitations as one serialized step of the organization's coordinator (SPEC §12):
 * one read for every row's checks, then rows decided in input order exactly as single creates
 * one after another would be (a repeated email meets the invitation its first row created), one
 * charge of the email limits for all accepted rows, and one D1 batch in which every insert is
 * still guarded by the pending count. `rows` holds `null` for rows the route refused.
 */
export async function createInvitationsBulk(
  ctx: ServiceContext,
  input: {
    rows: (BulkRow | { invalid: BulkResult })[];
    idempotency?: { key: string; requestHash: string };
    inviter?: { name: string; email: string };
  },
): Promise<Outcome<{ results: BulkResult[]; outboxIds: string[]; replayed?: boolean }>> {
  const { db, organizationId: org, now } = ctx;
  const replay = async (idem: { key: string; requestHash: string }, userId: string) => {
    const row = await db.query.idempotencyKeys.findFirst({
      where: and(
        eq(idempotencyKeys.organizationId, org),
        eq(idempotencyKeys.userId, userId),
        eq(idempotencyKeys.key, idem.key),
      ),
    });
    if (row && row.createdAt > now - IDEMPOTENCY_TTL_MS) {
      if (row.requestHash !== idem.requestHash)
        return fail('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');
      return {
        ok: true as const,
        value: { results: JSON.parse(row.response ?? '[]') as BulkResult[], outboxIds: [], replayed: true },
      };
    }
    return null;
  };
  const emails = [...new Set(input.rows.flatMap((r) => ('email' in r ? [r.email] : [])))];
  const [snap] = await db.all<{
    role: Role | null;
    members: string;
    pending_emails: string;
    pending: number;
    domains: string | null;
    default_locale: string | null;
  }>(sql`SELECT
      (SELECT allowed_email_domains FROM organizations WHERE id = ${org}) AS domains,
      (SELECT default_locale FROM organizations WHERE id = ${org}) AS default_locale,
      (SELECT role FROM memberships WHERE organization_id = ${org} AND user_id = ${ctx.actor.userId}) AS role,
      (SELECT json_group_array(u.email) FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = ${org} AND u.email IN (SELECT value FROM json_each(${JSON.stringify(emails)}))) AS members,
      (SELECT json_group_array(email) FROM invitations WHERE organization_id = ${org} AND status = 'pending' AND expires_at > ${now}
        AND email IN (SELECT value FROM json_each(${JSON.stringify(emails)}))) AS pending_emails,
      ${livePendingCountSql(org, now)} AS pending`);
  if (!snap.role) return fail('not_found', 'No such organization.');
  if (snap.role !== 'owner' && snap.role !== 'admin')
    return fail('forbidden', 'Only owners and admins can manage invitations.');
  // A replay only for a caller who may still invite (as a single create checks the role first).
  if (input.idempotency && ctx.actor.userId) {
    const previous = await replay(input.idempotency, ctx.actor.userId);
    if (previous) return previous;
  }
  const members = new Set(JSON.parse(snap.members) as string[]);
  const pendingEmails = new Set(JSON.parse(snap.pending_emails) as string[]);
  let pending = snap.pending;
  const domains = parseDomains(snap.domains);
  const defaultLocale = asLocale(snap.default_locale);

  const results: BulkResult[] = [];
  const accepted: { index: number; row: BulkRow }[] = [];
  // Rows refused only because an earlier row of this request took the address: if that row is
  // refused in the end (a rate limit), they get its answer instead.
  const repeats = new Map<string, number[]>();
  const fromRequest = new Set<string>();
  // biome-ignore lint/suspicious/useIterableCallbackReturn: `return void push(…)` ends a row's checks
  input.rows.forEach((r, index) => {
    if ('invalid' in r) return void results.push({ ...r.invalid, index });
    if (r.role === 'owner' && snap.role !== 'owner')
      return void results.push(
        refusal(index, r.email, 'forbidden', 'Only an owner can grant or change the owner role.'),
      );
    if (!domainAllowed(domains, r.email))
      return void results.push(refusal(index, r.email, 'email_domain_not_allowed', domainRefusal(domains)));
    if (members.has(r.email))
      return void results.push(
        refusal(index, r.email, 'already_member', `${r.email} is already a member of this organization.`),
      );
    if (pendingEmails.has(r.email)) {
      if (fromRequest.has(r.email)) repeats.set(r.email, [...(repeats.get(r.email) ?? []), index]);
      return void results.push(
        refusal(
          index,
          r.email,
          'invitation_already_pending',
          `An invitation to ${r.email} is already pending; resend it instead.`,
        ),
      );
    }
    if (pending >= PENDING_LIMIT) {
      return void results.push(
        refusal(
          index,
          r.email,
          'pending_invitation_limit',
          `An organization can have at most ${PENDING_LIMIT} pending invitations.`,
        ),
      );
    }
    pending += 1;
    pendingEmails.add(r.email);
    fromRequest.add(r.email);
    accepted.push({ index, row: r });
    results.push({ index, email: r.email, status: 201, invitation: undefined as unknown as InvitationResource });
  });

  const outboxIds: string[] = [];
  if (accepted.length > 0) {
    const limited = await ctx.chargeEmail?.(accepted.length);
    if (limited) {
      for (const { index, row } of accepted) {
        for (const i of [index, ...(repeats.get(row.email) ?? [])])
          results[i] = refusal(i, row.email, limited.code, limited.detail ?? ERROR_CODES[limited.code].title);
      }
      accepted.length = 0;
    }
  }
  // Remembered for a replay only when nothing was refused for a reason that passes (a rate limit).
  const remember =
    input.idempotency && ctx.actor.userId && !results.some((r) => r.status === 429)
      ? (
          stored: BulkResult[],
        ) => sql`INSERT OR REPLACE INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, response, created_at)
        VALUES (${org}, ${ctx.actor.userId}, ${input.idempotency!.key}, ${input.idempotency!.requestHash}, 'bulk', ${JSON.stringify(stored)}, ${now})`
      : null;
  if (accepted.length > 0) {
    const statements = [];
    const made: { index: number; id: string; resource: InvitationResource }[] = [];
    for (const { index, row } of accepted) {
      const id = newId('inv');
      const jti = newId('jti');
      const outboxId = newOutboxId();
      const expiresAt = now + row.expiresInDays * DAY_MS;
      const locale = row.locale ?? defaultLocale;
      const created = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${id})`;
      statements.push(
        expiredAuditSql(org, row.email, now),
        expireStaleSql(org, row.email, now),
        // Guarded like a single create: the batch runs in order, so each insert sees the ones before it.
        sql`INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days,
            expires_at, token_id, invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, created_at, updated_at, locale)
          SELECT ${id}, ${org}, ${row.email}, ${row.role}, 'pending', ${row.message}, ${row.expiresInDays},
            ${expiresAt}, ${jti}, ${ctx.actor.userId}, ${now}, 1, 'queued', 0, ${now}, ${now}, ${locale}
          WHERE ${livePendingCountSql(org, now)} < ${PENDING_LIMIT}
            AND NOT EXISTS (SELECT 1 FROM invitations WHERE organization_id = ${org} AND email = ${row.email} AND status = 'pending')
            AND NOT ${memberSql(org, row.email)}`,
        auditStatement(
          db,
          ctx.actor,
          {
            organizationId: org,
            action: 'invitation.created',
            targetType: 'invitation',
            targetId: id,
            data: { email: row.email, role: row.role, expires_in_days: row.expiresInDays, bulk: true },
          },
          now,
          created,
        ),
        outboxInsert(
          { id: outboxId, kind: 'invitation_email', organizationId: org, subjectId: id, tokenId: jti },
          now,
          created,
        ),
      );
      outboxIds.push(outboxId);
      made.push({
        index,
        id,
        resource: newInvitationResource(
          ctx,
          { id, email: row.email, role: row.role, message: row.message, expiresInDays: row.expiresInDays, jti, locale },
          input.inviter,
        ),
      });
    }
    for (const { index, resource } of made)
      results[index] = { index, email: resource.email, status: 201, invitation: resource };
    // The replay record in the same batch as the invitations (the coordinator serializes this
    // organization's writes, so the guarded inserts answer as decided above; checked below).
    const batch = await runBatch(db, [...statements, ...(remember ? [remember(results)] : [])]);
    made.forEach(({ index, resource }, i) => {
      // Five statements per row; the insert is the third.
      if (batch[i * 5 + 2].meta.changes !== 1)
        results[index] = refusal(
          index,
          resource.email,
          'pending_invitation_limit',
          'The organization reached its pending limit.',
        );
    });
  } else if (remember) {
    await db.run(remember(results));
  }
  return { ok: true, value: { results, outboxIds } };
}
