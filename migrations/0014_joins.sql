-- SPEC §16, joining beyond the emailed invitation: seats, invite links, verified domains and join
-- requests. Every way in is a write of the organization's coordinator; the guarded statements that
-- make it (src/joins/) read these tables.

-- Seats (members + live pending invitations) may not exceed `seat_limit`; NULL: no limit.
ALTER TABLE `organizations` ADD `seat_limit` integer;--> statement-breakpoint
-- Domain join: `off`, `request` or `auto`, for accounts at a verified domain; they join with `domain_join_role`.
ALTER TABLE `organizations` ADD `domain_join` text DEFAULT 'off' NOT NULL;--> statement-breakpoint
ALTER TABLE `organizations` ADD `domain_join_role` text DEFAULT 'viewer' NOT NULL;--> statement-breakpoint
-- Invite links: the URL's code is a secret kept only as its SHA-256 (`code_hash`); rotating replaces
-- it, so the old URL finds nothing. Deleted links keep their row (`deleted_at`) for the audit trail.
CREATE TABLE `invite_links` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`role` text NOT NULL,
	`max_uses` integer NOT NULL,
	`uses` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`requires_approval` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT 1 NOT NULL,
	`disabled_reason` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invite_links_code_hash_unique` ON `invite_links` (`code_hash`);--> statement-breakpoint
CREATE INDEX `invite_links_org_created_idx` ON `invite_links` (`organization_id`, `created_at`, `id`);--> statement-breakpoint
CREATE INDEX `invite_links_org_creator_idx` ON `invite_links` (`organization_id`, `created_by`);--> statement-breakpoint
-- One account redeems a link once (a join, or a join request when the link requires approval).
CREATE TABLE `invite_link_redemptions` (
	`link_id` text NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`link_id`, `user_id`),
	FOREIGN KEY (`link_id`) REFERENCES `invite_links`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
-- Domains an organization proves it controls by a DNS TXT record. A domain is verified by at most one
-- organization (the partial unique index); any number may have it pending.
CREATE TABLE `organization_domains` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`domain` text NOT NULL,
	`status` text NOT NULL,
	`verification_token` text NOT NULL,
	`verified_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organization_domains_org_domain_unique` ON `organization_domains` (`organization_id`, `domain`);--> statement-breakpoint
CREATE UNIQUE INDEX `organization_domains_one_verified` ON `organization_domains` (`domain`) WHERE status = 'verified';--> statement-breakpoint
-- Join requests (from a link that requires approval, or a domain with `domain_join` = `request`).
CREATE TABLE `join_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`link_id` text,
	`role` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`decided_at` integer,
	`decided_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `join_requests_one_pending` ON `join_requests` (`organization_id`, `user_id`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `join_requests_org_status_created_idx` ON `join_requests` (`organization_id`, `status`, `created_at`, `id`);--> statement-breakpoint
CREATE INDEX `join_requests_org_created_idx` ON `join_requests` (`organization_id`, `created_at`, `id`);--> statement-breakpoint
CREATE INDEX `join_requests_user_created_idx` ON `join_requests` (`user_id`, `created_at`, `id`);--> statement-breakpoint
-- The three new resources as the API returns them, as JSON text, written once here (as
-- invitation_resources in 0008): the webhook trigger below reads them, and the API's shape is tested
-- against them byte for byte. `status` of a link is the stored one; whether it has expired depends
-- on the moment, which the trigger and the API know and a view does not.
CREATE VIEW `invite_link_resources` AS
SELECT l.id AS id, l.organization_id AS organization_id, l.expires_at AS expires_at,
  CASE WHEN l.deleted_at IS NOT NULL THEN 'deleted' WHEN l.enabled = 0 THEN 'disabled' WHEN l.uses >= l.max_uses THEN 'used_up' ELSE 'active' END AS status,
  json_object(
    'id', l.id, 'organization_id', l.organization_id, 'role', l.role, 'max_uses', l.max_uses, 'uses', l.uses,
    'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', l.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', l.expires_at % 1000) || 'Z'),
    'requires_approval', json(CASE WHEN l.requires_approval THEN 'true' ELSE 'false' END),
    'enabled', json(CASE WHEN l.enabled = 1 AND l.deleted_at IS NULL THEN 'true' ELSE 'false' END),
    'status', CASE WHEN l.deleted_at IS NOT NULL THEN 'deleted' WHEN l.enabled = 0 THEN 'disabled' WHEN l.uses >= l.max_uses THEN 'used_up' ELSE 'active' END,
    'disabled_reason', l.disabled_reason,
    'created_by', l.created_by,
    'created_at', (strftime('%Y-%m-%dT%H:%M:%S', l.created_at / 1000, 'unixepoch') || '.' || printf('%03d', l.created_at % 1000) || 'Z'),
    'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', l.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', l.updated_at % 1000) || 'Z')) AS resource
FROM invite_links l;
--> statement-breakpoint
CREATE VIEW `join_request_resources` AS
SELECT r.id AS id, r.organization_id AS organization_id,
  json_object(
    'id', r.id, 'organization_id', r.organization_id,
    'user', json_object('id', u.id, 'email', u.email, 'name', u.name),
    'source', r.source, 'link_id', r.link_id, 'role', r.role, 'status', r.status, 'reason', r.reason,
    'created_at', (strftime('%Y-%m-%dT%H:%M:%S', r.created_at / 1000, 'unixepoch') || '.' || printf('%03d', r.created_at % 1000) || 'Z'),
    'decided_at', CASE WHEN r.decided_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', r.decided_at / 1000, 'unixepoch') || '.' || printf('%03d', r.decided_at % 1000) || 'Z') END,
    'decided_by', r.decided_by) AS resource
FROM join_requests r JOIN users u ON u.id = r.user_id;
--> statement-breakpoint
CREATE VIEW `domain_resources` AS
SELECT d.id AS id, d.organization_id AS organization_id,
  json_object(
    'id', d.id, 'organization_id', d.organization_id, 'domain', d.domain, 'status', d.status,
    'verification', json_object('type', 'dns_txt', 'name', '_8bit-ai-verification.' || d.domain, 'value', '8bit-ai-verification=' || d.verification_token),
    'created_at', (strftime('%Y-%m-%dT%H:%M:%S', d.created_at / 1000, 'unixepoch') || '.' || printf('%03d', d.created_at % 1000) || 'Z'),
    'verified_at', CASE WHEN d.verified_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', d.verified_at / 1000, 'unixepoch') || '.' || printf('%03d', d.verified_at % 1000) || 'Z') END) AS resource
FROM organization_domains d;
--> statement-breakpoint
-- The events of SPEC §16, from their audit rows (as 0008's trigger makes the invitation events):
-- the resource after the change, and `member.added` with how the member came in (`via`).
CREATE TRIGGER `webhook_events_from_join_audit` AFTER INSERT ON `audit_events`
WHEN NEW.action IN ('invite_link.created', 'invite_link.disabled', 'join_request.created', 'join_request.approved',
    'join_request.rejected', 'domain.verified', 'member.added')
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE organization_id = NEW.organization_id AND enabled = 1)
BEGIN
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, NEW.action, json_object('type', NEW.action, 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_set(r.resource, '$.status', CASE WHEN r.status = 'active' AND r.expires_at <= NEW.created_at THEN 'expired' ELSE r.status END))), NEW.created_at
    FROM invite_link_resources r WHERE NEW.target_type = 'invite_link' AND r.id = NEW.target_id;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, NEW.action, json_object('type', NEW.action, 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(r.resource)), NEW.created_at
    FROM join_request_resources r WHERE NEW.target_type = 'join_request' AND r.id = NEW.target_id;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, NEW.action, json_object('type', NEW.action, 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(r.resource)), NEW.created_at
    FROM domain_resources r WHERE NEW.target_type = 'domain' AND r.id = NEW.target_id;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, 'member.added',
      json_object('type', 'member.added', 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_object('organization_id', m.organization_id, 'user_id', m.user_id, 'email', u.email, 'role', m.role, 'via', json_extract(NEW.data, '$.via')))), NEW.created_at
    FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE NEW.action = 'member.added' AND m.organization_id = NEW.organization_id AND m.user_id = NEW.target_id;
END;
--> statement-breakpoint
-- 0008's trigger again, its `member.added` (from an accepted invitation) now with `via`.
DROP TRIGGER IF EXISTS `webhook_events_from_audit`;
--> statement-breakpoint
CREATE TRIGGER `webhook_events_from_audit` AFTER INSERT ON `audit_events`
WHEN NEW.action IN ('invitation.created', 'invitation.resent', 'invitation.role_changed', 'invitation.revoked',
    'invitation.accepted', 'invitation.expired', 'invitation.delivery_failed', 'invitation.bounced',
    'member.role_changed', 'member.removed', 'member.left')
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE organization_id = NEW.organization_id AND enabled = 1)
BEGIN
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, NEW.action, json_object('type', NEW.action, 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(CASE NEW.action
        WHEN 'invitation.expired' THEN json_set(r.resource, '$.status', 'expired', '$.updated_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'))
        WHEN 'invitation.revoked' THEN json_set(r.resource, '$.status', 'revoked', '$.revoked_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), '$.updated_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'))
        WHEN 'invitation.delivery_failed' THEN json_set(r.resource, '$.email_delivery', 'failed', '$.email_delivery_detail', json_extract(NEW.data, '$.reason'))
        WHEN 'invitation.bounced' THEN json_set(r.resource, '$.email_delivery', 'bounced', '$.email_delivery_detail', json_extract(NEW.data, '$.reason'))
        ELSE r.resource END)), NEW.created_at
    FROM (SELECT json_set(resource, '$.status', CASE WHEN status = 'pending' AND expires_at <= NEW.created_at THEN 'expired' ELSE status END) AS resource
      FROM invitation_resources WHERE id = NEW.target_id) r
    WHERE NEW.target_type = 'invitation';
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, 'member.added',
      json_object('type', 'member.added', 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_object('organization_id', m.organization_id, 'user_id', m.user_id, 'email', u.email, 'role', m.role, 'via', 'invitation'))), NEW.created_at
    FROM invitations i JOIN memberships m ON m.organization_id = i.organization_id AND m.user_id = i.accepted_by
      JOIN users u ON u.id = m.user_id
    WHERE NEW.action = 'invitation.accepted' AND i.id = NEW.target_id AND m.created_at = NEW.created_at;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, 'member.role_changed',
      json_object('type', 'member.role_changed', 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_object('organization_id', NEW.organization_id, 'user_id', u.id, 'email', u.email, 'role', json_extract(NEW.data, '$.to'), 'previous_role', json_extract(NEW.data, '$.from')))), NEW.created_at
    FROM users u WHERE NEW.action = 'member.role_changed' AND u.id = NEW.target_id;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, 'member.removed',
      json_object('type', 'member.removed', 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_object('organization_id', NEW.organization_id, 'user_id', u.id, 'email', u.email, 'role', json_extract(NEW.data, '$.role')))), NEW.created_at
    FROM users u WHERE NEW.action IN ('member.removed', 'member.left') AND u.id = NEW.target_id;
END;
