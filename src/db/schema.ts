import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Roles a member or an invitation can carry. */
export const ROLES = ['owner', 'admin', 'developer', 'viewer', 'billing'] as const;
export type Role = (typeof ROLES)[number];

/** Languages of invitation emails and acceptance pages (SPEC §12). */
export const LOCALES = ['en', 'de', 'fr', 'es', 'ja', 'pt-BR'] as const;
export type Locale = (typeof LOCALES)[number];

/** How accounts at an organization's verified domains may join it (SPEC §16). */
export const DOMAIN_JOIN_POLICIES = ['off', 'request', 'auto'] as const;
export type DomainJoinPolicy = (typeof DOMAIN_JOIN_POLICIES)[number];

/** The roles a link, a domain join or an admin's approval can grant: never `owner` or `admin`. */
export const JOIN_ROLES = ['developer', 'viewer', 'billing'] as const;
export type JoinRole = (typeof JOIN_ROLES)[number];

export const INVITATION_STATUSES = ['pending', 'accepted', 'expired', 'revoked', 'declined'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** `email_delivery`: queued → sent → delivered | bounced | complained, or failed (SPEC §10). */
export const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'bounced', 'complained', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

// All timestamps are INTEGER Unix milliseconds.

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  emailVerifiedAt: integer('email_verified_at'),
  createdAt: integer('created_at').notNull(),
  /**
   * When the user last signed out everywhere (SPEC §18): an invitation link emailed before then no
   * longer signs them in, however fresh (§14); it still joins, and emails a sign-in link instead.
   */
  signedOutEverywhereAt: integer('signed_out_everywhere_at'),
});

export const organizations = sqliteTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  slug: text('slug').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** A JSON array of allowed invitee domains (`example.com`, `*.example.com`); NULL allows all (SPEC §12). */
  allowedEmailDomains: text('allowed_email_domains'),
  /** The locale of new invitations when none is given; NULL means `en`. */
  defaultLocale: text('default_locale'),
  /** Seats used (members + live pending invitations) may not exceed it; NULL: no limit (SPEC §16). */
  seatLimit: integer('seat_limit'),
  /** Whether accounts at a verified domain join on their own, ask, or neither (SPEC §16). */
  domainJoin: text('domain_join', { enum: DOMAIN_JOIN_POLICIES }).notNull().default('off'),
  /** The role an account joins with by its domain. */
  domainJoinRole: text('domain_join_role', { enum: JOIN_ROLES }).notNull().default('viewer'),
  /** Days before expiry that invitees are reminded (SPEC §17); NULL: never. 1-29, default 2. */
  reminderDaysBeforeExpiry: integer('reminder_days_before_expiry').default(2),
});

export const memberships = sqliteTable(
  'memberships',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    index('memberships_org_role_idx').on(t.organizationId, t.role),
  ],
);

export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    status: text('status', { enum: INVITATION_STATUSES }).notNull(),
    message: text('message'),
    expiresInDays: integer('expires_in_days').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** The `jti` of the only token that is currently valid; NULL once accepted or revoked. */
    tokenId: text('token_id'),
    invitedBy: text('invited_by')
      .notNull()
      .references(() => users.id),
    lastSentAt: integer('last_sent_at').notNull(),
    sendCount: integer('send_count').notNull(),
    emailDelivery: text('email_delivery', { enum: DELIVERY_STATES }).notNull(),
    deliveryAttempts: integer('delivery_attempts').notNull().default(0),
    /** A short reason for the current delivery state (a bounce, a provider refusal); never a token. */
    emailDeliveryDetail: text('email_delivery_detail'),
    /** The invitee's language for the email and the acceptance pages (SPEC §12). */
    locale: text('locale').notNull().default('en'),
    acceptedAt: integer('accepted_at'),
    acceptedBy: text('accepted_by'),
    revokedAt: integer('revoked_at'),
    /** The invitee said no (SPEC §17): a final status, like revoked. */
    declinedAt: integer('declined_at'),
    /** When this sending's reminder went out; NULL until then, and again after a resend. */
    remindedAt: integer('reminded_at'),
    /** When this sending's reminder is due; NULL when none is to be sent (SPEC §17). */
    remindAt: integer('remind_at'),
    /** When the invitee asked for a new invitation, once per expiry; NULL again after a resend. */
    reinviteRequestedAt: integer('reinvite_requested_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // The reminder sweep (SPEC §17) and the invitee's inbox.
    index('invitations_reminder_due_idx').on(t.status, t.remindAt),
    index('invitations_email_status_idx').on(t.email, t.status, t.expiresAt),
    // Listing newest first, with and without a status filter.
    index('invitations_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('invitations_org_status_created_idx').on(t.organizationId, t.status, t.createdAt, t.id),
    // Counting live pending invitations: a range scan over (org, 'pending', expires_at > now).
    index('invitations_org_status_expires_idx').on(t.organizationId, t.status, t.expiresAt),
    // The cron sweep: status = 'pending' AND expires_at <= now, oldest first.
    index('invitations_status_expires_idx').on(t.status, t.expiresAt),
    // Retention (SPEC §13): finished invitations by the time of their last change.
    index('invitations_status_updated_idx').on(t.status, t.updatedAt),
    // Rule 6 enforced by the database itself: one pending row per (org, email).
    uniqueIndex('invitations_one_pending_per_email').on(t.organizationId, t.email).where(sql`status = 'pending'`),
  ],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** Written at most once a minute per session (SPEC §14). */
    lastUsedAt: integer('last_used_at'),
    /** Where the session was created from, for the Account page (not a secret; cut to 64 and 256 characters). */
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    /** Written at most once a minute per token. */
    lastUsedAt: integer('last_used_at'),
    /** From `expires_in_days` (1-365, default 90 since SPEC §18); NULL (older tokens) never expires. */
    expiresAt: integer('expires_at'),
    /** Revoked tokens keep their row, so the email about their creation still renders (SPEC §18). */
    revokedAt: integer('revoked_at'),
    /** The language of the email about its creation: the creating browser's `Accept-Language`. */
    locale: text('locale'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

/**
 * The networks an account signed in from (SPEC §18, no lockout by strangers), keyed as the sign-in
 * budgets count them (`ipBucket`: an IPv4 address or an IPv6 /64), written with each session. A
 * sign-in link asked for from one of them is not held back by the address's daily ceiling.
 */
export const signInNetworks = sqliteTable(
  'sign_in_networks',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    network: text('network').notNull(),
    lastSignedInAt: integer('last_signed_in_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.network] }), index('sign_in_networks_last_idx').on(t.lastSignedInAt)],
);

/** Single-use bookkeeping for emailed sign-in links (the link itself is a signed JWT). */
export const signInLinks = sqliteTable(
  'sign_in_links',
  {
    jti: text('jti').primaryKey(),
    email: text('email').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** Redeemed, or used up by signing out everywhere (SPEC §18). */
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('sign_in_links_email_idx').on(t.email)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    actorType: text('actor_type', { enum: ['user', 'system'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    data: text('data'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('audit_events_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    // Retention (SPEC §13): the oldest events first.
    index('audit_events_created_idx').on(t.createdAt),
  ],
);

/** Idempotency-Key on invitation create: scoped to (organization, caller, key), kept 24 hours. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    organizationId: text('organization_id').notNull(),
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    invitationId: text('invitation_id').notNull(),
    /** The first response's body, replayed as is. */
    response: text('response'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId, t.key] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

/** Fixed-window counters for rate limits: one row per (bucket, window). */
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    bucket: text('bucket').notNull(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.windowStart] }), index('rate_limits_window_idx').on(t.windowStart)],
);

/**
 * Provider event delivery ids already applied (Resend's `svix-id`), kept for the replay window
 * (SPEC §18): `claim` names the request that recorded the id, whose batch alone may apply it.
 */
export const providerEventIds = sqliteTable(
  'provider_event_ids',
  {
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    claim: text('claim').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.eventId] }), index('provider_event_ids_expires_idx').on(t.expiresAt)],
);

export const OUTBOX_KINDS = [
  'invitation_email',
  'sign_in_email',
  'api_token_email',
  /** To one owner or admin (`token_id`: their user id) about a new join request (`subject_id`). */
  'join_request_email',
  /** To the requester, about the decision on their join request (`subject_id`). */
  'join_decision_email',
  /** To the invitee (`subject_id`: the invitation), before expiry, with the current link (`token_id`: its jti). */
  'invitation_reminder_email',
  /** To the inviter: the invitee declined (`subject_id`: the invitation). */
  'invitation_declined_email',
  /** To the inviter: the invitee asked for a new invitation (`subject_id`: the invitation). */
  'reinvite_request_email',
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];
export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed', 'dropped'] as const;

/**
 * The transactional outbox (SPEC §10): one row per message to deliver, written in the same D1
 * batch as the change that calls for it, then handed to the delivery queue. The row holds no
 * secret: the consumer re-derives the link from the current state, so a stale link is dropped.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: OUTBOX_KINDS }).notNull(),
    organizationId: text('organization_id'),
    /** The invitation id, or the sign-in link's jti. */
    subjectId: text('subject_id').notNull(),
    /** The link (jti) this row delivers; when it is no longer the current one the row is dropped. */
    tokenId: text('token_id'),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When `pending`: due from then on. When `sending`: one consumer's claim ends then. */
    nextAttemptAt: integer('next_attempt_at').notNull(),
    providerMessageId: text('provider_message_id'),
    lastError: text('last_error'),
    deadLetteredAt: integer('dead_lettered_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // The consumer's claim and the relay: rows due (or claimed) long ago and still not done.
    index('outbox_status_next_idx').on(t.status, t.nextAttemptAt),
    // Provider events name the message by the provider's id.
    uniqueIndex('outbox_provider_message_idx').on(t.providerMessageId).where(sql`provider_message_id IS NOT NULL`),
    // Retention: sent rows older than 30 days.
    index('outbox_created_idx').on(t.createdAt),
  ],
);

/** Webhook event types (SPEC §11). */
export const WEBHOOK_EVENT_TYPES = [
  'invitation.created',
  'invitation.resent',
  'invitation.role_changed',
  'invitation.revoked',
  'invitation.accepted',
  'invitation.expired',
  'invitation.delivery_failed',
  'invitation.bounced',
  'invitation.declined',
  'invitation.reinvite_requested',
  'member.added',
  'member.role_changed',
  'member.removed',
  'invite_link.created',
  'invite_link.disabled',
  'join_request.created',
  'join_request.approved',
  'join_request.rejected',
  'domain.verified',
  'webhook.test',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An organization's webhook endpoint. The secret must be kept to sign; it is never shown again. */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** A JSON array of event types; NULL means every type. */
    events: text('events'),
    enabled: integer('enabled').notNull().default(1),
    /** Free text, or `creator_removed` when `created_by` lost the owner/admin role (SPEC §18). */
    disabledReason: text('disabled_reason'),
    /**
     * The member whose authority keeps the endpoint alive: its creator, or whoever last enabled it
     * or changed its URL. NULL for endpoints older than migration 0009 whose creator is unknown.
     */
    createdBy: text('created_by'),
    secret: text('secret').notNull(),
    /** After a rotation, the old secret still signs until `previous_secret_expires_at`. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: integer('previous_secret_expires_at'),
    /** The first failed attempt since the last success, and the failed attempts since then. */
    failingSince: integer('failing_since'),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_org_idx').on(t.organizationId, t.createdAt)],
);

/**
 * One event, written in the same D1 batch as the change (by a trigger on `audit_events`, see the
 * migration), with the exact body every endpoint receives.
 */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    type: text('type').notNull(),
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('webhook_events_created_idx').on(t.createdAt)],
);

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed', 'dropped'] as const;

/** One event to one endpoint: its id is the `webhook-id`, the same on every attempt. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When `pending`: due from then on. When `sending`: the claim ends then. */
    nextAttemptAt: integer('next_attempt_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('webhook_deliveries_status_next_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_org_created_idx').on(t.organizationId, t.createdAt),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId),
  ],
);

/** Every attempt, for the delivery log. */
export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    deliveryId: text('delivery_id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    attempt: integer('attempt').notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
    /** At most 1 KiB of the response body. */
    responseBody: text('response_body'),
    nextAttemptAt: integer('next_attempt_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('webhook_attempts_endpoint_created_idx').on(t.endpointId, t.createdAt, t.id)],
);

/**
 * Invite links (SPEC §16): a shareable URL whose code is kept only as its SHA-256 hash. Rotating
 * replaces the hash (the old URL finds nothing); deleting keeps the row (`deleted_at`).
 */
export const inviteLinks = sqliteTable(
  'invite_links',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    codeHash: text('code_hash').notNull().unique(),
    role: text('role', { enum: JOIN_ROLES }).notNull(),
    maxUses: integer('max_uses').notNull(),
    uses: integer('uses').notNull().default(0),
    expiresAt: integer('expires_at').notNull(),
    requiresApproval: integer('requires_approval').notNull().default(0),
    enabled: integer('enabled').notNull().default(1),
    /** `disabled` (by a manager), `deleted`, or `creator_removed` (its creator lost authority). */
    disabledReason: text('disabled_reason'),
    createdBy: text('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    index('invite_links_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('invite_links_org_creator_idx').on(t.organizationId, t.createdBy),
  ],
);

/** One account redeems a link once. */
export const inviteLinkRedemptions = sqliteTable(
  'invite_link_redemptions',
  {
    linkId: text('link_id')
      .notNull()
      .references(() => inviteLinks.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.linkId, t.userId] })],
);

export const DOMAIN_STATUSES = ['pending', 'verified'] as const;

/** A domain an organization proves it controls by DNS TXT; verified by at most one organization. */
export const organizationDomains = sqliteTable(
  'organization_domains',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    domain: text('domain').notNull(),
    status: text('status', { enum: DOMAIN_STATUSES }).notNull(),
    /** The random part of the TXT value `8bit-ai-verification=<token>` (public once published). */
    verificationToken: text('verification_token').notNull(),
    verifiedAt: integer('verified_at'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('organization_domains_org_domain_unique').on(t.organizationId, t.domain),
    uniqueIndex('organization_domains_one_verified').on(t.domain).where(sql`status = 'verified'`),
  ],
);

export const JOIN_REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'withdrawn'] as const;
export type JoinRequestStatus = (typeof JOIN_REQUEST_STATUSES)[number];
export const JOIN_SOURCES = ['link', 'domain'] as const;
export type JoinSource = (typeof JOIN_SOURCES)[number];

/** A request to join, decided by an owner or admin; one pending per (organization, account). */
export const joinRequests = sqliteTable(
  'join_requests',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    source: text('source', { enum: JOIN_SOURCES }).notNull(),
    linkId: text('link_id'),
    role: text('role', { enum: ROLES }).notNull(),
    status: text('status', { enum: JOIN_REQUEST_STATUSES }).notNull(),
    /** Why it was rejected, when the decider said (sent to the requester). */
    reason: text('reason'),
    decidedAt: integer('decided_at'),
    decidedBy: text('decided_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('join_requests_one_pending').on(t.organizationId, t.userId).where(sql`status = 'pending'`),
    index('join_requests_org_status_created_idx').on(t.organizationId, t.status, t.createdAt, t.id),
    index('join_requests_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('join_requests_user_created_idx').on(t.userId, t.createdAt, t.id),
  ],
);
