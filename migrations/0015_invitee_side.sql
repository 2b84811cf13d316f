-- SPEC §17, the invitee's side: the final status `declined`, reminders before expiry, and asking
-- for a new invitation. The invitation resource (the view of 0008) gains `declined_at`,
-- `reminded_at` and `reinvite_requested_at`; the webhook trigger gains `invitation.declined` and
-- `invitation.reinvite_requested` (their audit rows are written after the change, so the payload is
-- the resource after it).
ALTER TABLE `invitations` ADD `declined_at` integer;--> statement-breakpoint
-- When this sending's reminder went out; NULL until then (a resend sets it back to NULL: re-armed).
ALTER TABLE `invitations` ADD `reminded_at` integer;--> statement-breakpoint
-- When this sending's reminder is due: `reminder_days_before_expiry` days before it expires, set
-- when it is sent (and when the setting changes); NULL when there is none to send (no setting, a
-- life not longer than the horizon, or sent already). The cron reads only what is due.
ALTER TABLE `invitations` ADD `remind_at` integer;--> statement-breakpoint
-- When the invitee asked for a new invitation, once per expiry (a resend sets it back to NULL).
ALTER TABLE `invitations` ADD `reinvite_requested_at` integer;--> statement-breakpoint
-- Days before expiry that the cron reminds the invitee; NULL: no reminders. 1-29, default 2.
ALTER TABLE `organizations` ADD `reminder_days_before_expiry` integer DEFAULT 2;--> statement-breakpoint
-- The reminder sweep: pending invitations whose reminder is due, oldest due first.
CREATE INDEX `invitations_reminder_due_idx` ON `invitations` (`status`, `remind_at`);--> statement-breakpoint
-- Invitations pending before this migration: the default of 2 days, for those whose life allows it.
UPDATE `invitations` SET `remind_at` = `expires_at` - 2 * 86400000
  WHERE `status` = 'pending' AND `expires_at` - `last_sent_at` > 2 * 86400000;--> statement-breakpoint
-- The inbox: pending invitations to one email, across organizations.
CREATE INDEX `invitations_email_status_idx` ON `invitations` (`email`, `status`, `expires_at`);--> statement-breakpoint
DROP TRIGGER IF EXISTS `webhook_events_from_audit`;
--> statement-breakpoint
DROP VIEW IF EXISTS `invitation_resources`;
--> statement-breakpoint
CREATE VIEW `invitation_resources` AS
SELECT i.id AS id, i.organization_id AS organization_id, i.status AS status, i.expires_at AS expires_at,
  json_set(
    json_object(
      'id', i.id, 'organization_id', i.organization_id, 'email', i.email, 'role', i.role,
      'status', i.status, 'message', i.message, 'expires_in_days', i.expires_in_days,
      'expires_at', (strftime('%Y-%m-%dT%H:%M:%S', i.expires_at / 1000, 'unixepoch') || '.' || printf('%03d', i.expires_at % 1000) || 'Z'),
      'created_at', (strftime('%Y-%m-%dT%H:%M:%S', i.created_at / 1000, 'unixepoch') || '.' || printf('%03d', i.created_at % 1000) || 'Z'),
      'updated_at', (strftime('%Y-%m-%dT%H:%M:%S', i.updated_at / 1000, 'unixepoch') || '.' || printf('%03d', i.updated_at % 1000) || 'Z'),
      'invited_by', json_object('user_id', i.invited_by, 'name', u.name, 'email', u.email)),
    '$.last_sent_at', (strftime('%Y-%m-%dT%H:%M:%S', i.last_sent_at / 1000, 'unixepoch') || '.' || printf('%03d', i.last_sent_at % 1000) || 'Z'),
    '$.send_count', i.send_count,
    '$.email_delivery', i.email_delivery,
    '$.email_delivery_detail', i.email_delivery_detail,
    '$.accepted_at', CASE WHEN i.accepted_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.accepted_at / 1000, 'unixepoch') || '.' || printf('%03d', i.accepted_at % 1000) || 'Z') END,
    '$.accepted_by', i.accepted_by,
    '$.revoked_at', CASE WHEN i.revoked_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.revoked_at / 1000, 'unixepoch') || '.' || printf('%03d', i.revoked_at % 1000) || 'Z') END,
    '$.locale', i.locale,
    '$.declined_at', CASE WHEN i.declined_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.declined_at / 1000, 'unixepoch') || '.' || printf('%03d', i.declined_at % 1000) || 'Z') END,
    '$.reminded_at', CASE WHEN i.reminded_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.reminded_at / 1000, 'unixepoch') || '.' || printf('%03d', i.reminded_at % 1000) || 'Z') END,
    '$.reinvite_requested_at', CASE WHEN i.reinvite_requested_at IS NULL THEN NULL ELSE (strftime('%Y-%m-%dT%H:%M:%S', i.reinvite_requested_at / 1000, 'unixepoch') || '.' || printf('%03d', i.reinvite_requested_at % 1000) || 'Z') END) AS resource
FROM invitations i LEFT JOIN users u ON u.id = i.invited_by;
--> statement-breakpoint
CREATE TRIGGER `webhook_events_from_audit` AFTER INSERT ON `audit_events`
WHEN NEW.action IN ('invitation.created', 'invitation.resent', 'invitation.role_changed', 'invitation.revoked',
    'invitation.accepted', 'invitation.expired', 'invitation.delivery_failed', 'invitation.bounced',
    'invitation.declined', 'invitation.reinvite_requested',
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
