CREATE INDEX `audit_events_created_idx` ON `audit_events` (`created_at`);--> statement-breakpoint
CREATE INDEX `invitations_status_updated_idx` ON `invitations` (`status`,`updated_at`);