CREATE TABLE `webhook_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`duration_ms` integer NOT NULL,
	`error` text,
	`response_body` text,
	`next_attempt_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_endpoint_created_idx` ON `webhook_attempts` (`endpoint_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_status_next_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_org_created_idx` ON `webhook_deliveries` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`events` text,
	`enabled` integer DEFAULT 1 NOT NULL,
	`disabled_reason` text,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`failing_since` integer,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_org_idx` ON `webhook_endpoints` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_events_created_idx` ON `webhook_events` (`created_at`);
--> statement-breakpoint
-- Webhook events (SPEC §11) come from the audit log: every change already writes its audit row in
-- its own D1 batch, so an event row exists exactly when its change does. Only organizations with an
-- enabled endpoint pay for it. The payload is the resource as the API returns it after the change
-- (some audit rows are written just before their update, hence the json_set overrides).
-- The resource is one json_object and one json_set (which appends new keys, in order), so that no
-- SQL function call comes near D1's 32 arguments.
CREATE TRIGGER `webhook_events_from_audit` AFTER INSERT ON `audit_events`
WHEN NEW.action IN ('invitation.created', 'invitation.resent', 'invitation.role_changed', 'invitation.revoked',
    'invitation.accepted', 'invitation.expired', 'invitation.delivery_failed', 'invitation.bounced',
    'member.role_changed', 'member.removed', 'member.left')
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE organization_id = NEW.organization_id AND enabled = 1)
BEGIN
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, NEW.action, json_object('type', NEW.action, 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(CASE NEW.action
        WHEN 'invitation.expired' THEN json_set(json_set(json_object(
        'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
        'status', CASE WHEN i.status = 'pending' AND i.expires_at <= NEW.created_at THEN 'expired' ELSE i.status END,
        'message', i.message, 'expires_in_days', i.expires_in_days,
        'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'), 'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'), 'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
        'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
        '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'), '$.send_count', i.send_count,
        '$.email_delivery', i.email_delivery, '$.email_delivery_detail', i.email_delivery_detail,
        '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END, '$.accepted_by', i.accepted_by, '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END), '$.status', 'expired', '$.updated_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'))
        WHEN 'invitation.revoked' THEN json_set(json_set(json_object(
        'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
        'status', CASE WHEN i.status = 'pending' AND i.expires_at <= NEW.created_at THEN 'expired' ELSE i.status END,
        'message', i.message, 'expires_in_days', i.expires_in_days,
        'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'), 'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'), 'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
        'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
        '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'), '$.send_count', i.send_count,
        '$.email_delivery', i.email_delivery, '$.email_delivery_detail', i.email_delivery_detail,
        '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END, '$.accepted_by', i.accepted_by, '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END), '$.status', 'revoked', '$.revoked_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), '$.updated_at', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'))
        WHEN 'invitation.delivery_failed' THEN json_set(json_set(json_object(
        'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
        'status', CASE WHEN i.status = 'pending' AND i.expires_at <= NEW.created_at THEN 'expired' ELSE i.status END,
        'message', i.message, 'expires_in_days', i.expires_in_days,
        'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'), 'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'), 'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
        'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
        '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'), '$.send_count', i.send_count,
        '$.email_delivery', i.email_delivery, '$.email_delivery_detail', i.email_delivery_detail,
        '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END, '$.accepted_by', i.accepted_by, '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END), '$.email_delivery', 'failed', '$.email_delivery_detail', json_extract(NEW.data, '$.reason'))
        WHEN 'invitation.bounced' THEN json_set(json_set(json_object(
        'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
        'status', CASE WHEN i.status = 'pending' AND i.expires_at <= NEW.created_at THEN 'expired' ELSE i.status END,
        'message', i.message, 'expires_in_days', i.expires_in_days,
        'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'), 'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'), 'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
        'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
        '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'), '$.send_count', i.send_count,
        '$.email_delivery', i.email_delivery, '$.email_delivery_detail', i.email_delivery_detail,
        '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END, '$.accepted_by', i.accepted_by, '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END), '$.email_delivery', 'bounced', '$.email_delivery_detail', json_extract(NEW.data, '$.reason'))
        ELSE json_set(json_object(
        'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
        'status', CASE WHEN i.status = 'pending' AND i.expires_at <= NEW.created_at THEN 'expired' ELSE i.status END,
        'message', i.message, 'expires_in_days', i.expires_in_days,
        'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'), 'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'), 'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
        'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
        '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'), '$.send_count', i.send_count,
        '$.email_delivery', i.email_delivery, '$.email_delivery_detail', i.email_delivery_detail,
        '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END, '$.accepted_by', i.accepted_by, '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END) END)), NEW.created_at
    FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
    WHERE NEW.target_type = 'invitation' AND i.id = NEW.target_id;
  INSERT INTO webhook_events (id, organization_id, type, body, created_at)
    SELECT 'evt_' || lower(hex(randomblob(10))), NEW.organization_id, 'member.added',
      json_object('type', 'member.added', 'timestamp', (strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch') || '.' || printf('%03d', NEW.created_at % 1000) || 'Z'), 'data', json(json_object('organization_id', m.organization_id, 'user_id', m.user_id, 'email', u.email, 'role', m.role))), NEW.created_at
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
--> statement-breakpoint
-- One delivery per subscribed, enabled endpoint; its id is the `webhook-id` of every attempt.
CREATE TRIGGER `webhook_deliveries_from_event` AFTER INSERT ON `webhook_events`
WHEN NEW.type != 'webhook.test'
BEGIN
  INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT 'msg_' || lower(hex(randomblob(12))), NEW.organization_id, w.id, NEW.id, NEW.type, 'pending', 0, NEW.created_at, NEW.created_at, NEW.created_at
    FROM webhook_endpoints w
    WHERE w.organization_id = NEW.organization_id AND w.enabled = 1
      AND (w.events IS NULL OR EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = NEW.type));
END;
