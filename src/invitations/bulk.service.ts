import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Locale, Role } from '../db/schema';
import { ERROR_CODES, type ErrorCode, type FieldError, type Outcome, problemBody } from '../errors';
import type { Inviter, SendingContext } from '../lib/write-context';
import { newInvitationResource } from './create.service';
import { findReplay, type Idempotency, rememberSql } from './idempotency';
import { livePendingCountSql, livePendingSql, pendingToSql } from '../db/fragments';
import { PENDING_LIMIT } from '../lib/limits';
import { createStatements, type InviterStateRow, inviterState, inviterStateSql, newInvitation } from './invitation-sql';
import type { InvitationResource } from './invitations.store';
import { decideAuthority, decideNewOffer, refusals } from './rules';
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
export interface BulkInput {
  rows: (BulkRow | { invalid: BulkResult })[];
  idempotency?: Idempotency;
  inviter?: Inviter;
}

export async function createInvitationsBulk(
  ctx: SendingContext,
  input: BulkInput,
): Promise<Outcome<{ results: BulkResult[]; replayed?: boolean }>> {
  const { db, organizationId: org, now } = ctx;
  const emails = [...new Set(input.rows.flatMap((r) => ('email' in r ? [r.email] : [])))];
  const [row] = await db.all<InviterStateRow & { members: string; pending_emails: string }>(sql`SELECT
      ${inviterStateSql(ctx)},
      (SELECT json_group_array(u.email) FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = ${org} AND u.email IN (SELECT value FROM json_each(${JSON.stringify(emails)}))) AS members,
      (SELECT json_group_array(email) FROM invitations WHERE organization_id = ${org} AND ${livePendingSql(now)}
        AND email IN (SELECT value FROM json_each(${JSON.stringify(emails)}))) AS pending_emails`);
  const snap = inviterState(row);
  const refused = decideAuthority(snap.role, false);
  if (refused) return refused;
  // A replay only for a caller who may still invite (as a single create checks the role first).
  if (input.idempotency) {
    const previous = await findReplay(ctx, input.idempotency);
    if (previous && 'ok' in previous) return previous;
    if (previous) {
      return { ok: true, value: { results: JSON.parse(previous.response ?? '[]') as BulkResult[], replayed: true } };
    }
  }
  const members = new Set(JSON.parse(row.members) as string[]);
  const pendingEmails = new Set(JSON.parse(row.pending_emails) as string[]);
  const state = { domains: snap.domains, pending: snap.pending, members: snap.members, seatLimit: snap.seatLimit };
  const { defaultLocale } = snap;

  const results: BulkResult[] = [];
  const accepted: { index: number; row: BulkRow }[] = [];
  // Rows refused only because an earlier row of this request took the address: if that row is
  // refused in the end (a rate limit), they get its answer instead.
  const repeats = new Map<string, number[]>();
  const fromRequest = new Set<string>();
  for (const [index, r] of input.rows.entries()) {
    if ('invalid' in r) {
      results.push({ ...r.invalid, index });
      continue;
    }
    // Exactly the single create's decision, on the state as the rows before this one left it.
    const no =
      decideAuthority(snap.role, r.role === 'owner') ??
      decideNewOffer({ ...state, isMember: members.has(r.email), otherPending: pendingEmails.has(r.email) }, r.email);
    if (no) {
      if (no.code === 'invitation_already_pending' && fromRequest.has(r.email)) {
        repeats.set(r.email, [...(repeats.get(r.email) ?? []), index]);
      }
      results.push(refusal(index, r.email, no.code, no.detail ?? ERROR_CODES[no.code].title));
      continue;
    }
    state.pending += 1;
    pendingEmails.add(r.email);
    fromRequest.add(r.email);
    accepted.push({ index, row: r });
    results.push({ index, email: r.email, status: 201, invitation: undefined as unknown as InvitationResource });
  }

  if (accepted.length > 0) {
    const limited = await ctx.quota.charge(accepted.length);
    if (limited) {
      for (const { index, row } of accepted) {
        for (const i of [index, ...(repeats.get(row.email) ?? [])])
          results[i] = refusal(i, row.email, limited.code, limited.detail ?? ERROR_CODES[limited.code].title);
      }
      accepted.length = 0;
    }
  }
  // Remembered for a replay only when nothing was refused for a reason that passes (a rate limit).
  const idem =
    input.idempotency && ctx.actor.userId && !results.some((r) => r.status === 429) ? input.idempotency : null;
  const made = accepted.map(({ index, row }) => {
    const inv = newInvitation({ ...row, locale: row.locale ?? null });
    const resource = newInvitationResource(ctx, { ...inv, locale: row.locale ?? defaultLocale }, input.inviter);
    results[index] = { index, email: row.email, status: 201, invitation: resource };
    return { index, inv };
  });
  if (made.length === 0) {
    if (idem) await db.run(rememberSql(ctx, idem, 'bulk', results));
    return { ok: true, value: { results } };
  }
  // Guarded like single creates: the batch runs in order, so each insert sees the ones before it.
  // The replay record is in the same batch (the coordinator serializes this organization's writes,
  // so the guarded inserts answer as decided above; checked below).
  const statements = made.flatMap(({ inv }) =>
    createStatements(ctx, inv, [sql`NOT ${pendingToSql(org, inv.email)}`], { bulk: true }),
  );
  const batch = await runBatch(db, [...statements, ...(idem ? [rememberSql(ctx, idem, 'bulk', results)] : [])]);
  // Five statements per row; the insert is the third. A row its guards refused (a limit changed
  // outside the queue since the read, such as the seat limit) is named by the state after the batch.
  const refusedRows = made.filter((_, i) => batch[i * 5 + 2].results.length !== 1);
  if (refusedRows.length > 0) {
    const [after] = await db.all<{ pending: number }>(sql`SELECT ${livePendingCountSql(org, now)} AS pending`);
    const no = after.pending >= PENDING_LIMIT ? refusals.pendingLimit() : refusals.seatLimit(await seatLimitOf(ctx));
    for (const { index, inv } of refusedRows) results[index] = refusal(index, inv.email, no.code, no.detail!);
  }
  return { ok: true, value: { results }, queued: made.map(({ inv }) => inv.outboxId) };
}

/** The organization's seat limit now (for the message of a refusal the guards decided). */
async function seatLimitOf(ctx: SendingContext): Promise<number> {
  const [row] = await ctx.db.all<{ seat_limit: number | null }>(
    sql`SELECT seat_limit FROM organizations WHERE id = ${ctx.organizationId}`,
  );
  return row?.seat_limit ?? 0;
}
