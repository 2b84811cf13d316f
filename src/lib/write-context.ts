import type { Role } from '../db/schema';
import type { Db } from '../env';
import type { Failure } from '../errors';

/** Who did something, from where. `userId` null means the system (cron) or an anonymous visitor. */
export interface Actor {
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The client behind a request, as Cloudflare reports it. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * The hourly invitation-email limits a send counts in (SPEC §14). The coordinator provides it: the
 * per-account and per-IP counters live in D1 (`rate_limits`), the organization's in the
 * coordinator's own storage. Every write that sends an invitation email takes one: there is no
 * "unmetered" default.
 */
export interface EmailQuota {
  /** The D1 counters, as guards and increments of a one-batch create. */
  counters: readonly { bucket: string; windowStart: number; max: number; limit: { max: number; windowMs: number } }[];
  /** Whether the organization's own window has room for `emails` more. */
  orgHasRoom(emails: number): Promise<boolean>;
  /** Counts `emails` in the organization's own window (after a batch that sent them). */
  chargeOrg(emails: number): Promise<void>;
  /** Counts `emails` against every limit, the organization's first; the refusal when over one. */
  charge(emails: number): Promise<Failure | null>;
}

/**
 * What a write runs with, inside the organization's coordinator: its D1 session, the organization,
 * the authenticated actor and the time. Domain services take it; only the coordinator makes one.
 */
export interface WriteContext {
  db: Db;
  organizationId: string;
  actor: Actor;
  now: number;
}

/** A write that may send invitation emails. */
export interface SendingContext extends WriteContext {
  quota: EmailQuota;
}

/** The inviting account, as a new invitation's `invited_by` shows it. */
export interface Inviter {
  name: string;
  email: string;
}

/** The authenticated caller of a write, and their role in the organization (null: not a member). */
export interface Caller {
  id: string;
  email: string;
  name: string;
  role: Role | null;
}
