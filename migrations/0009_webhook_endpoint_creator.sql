-- SPEC §18, authority does not outlive its holder: an endpoint records the member whose authority
-- keeps it alive (`created_by`), and the batch that removes that member, or demotes them below
-- admin, disables it with `disabled_reason = 'creator_removed'` (a value of the existing column).
-- No new index: an organization has at most 10 endpoints, found by `webhook_endpoints_org_idx`.
ALTER TABLE `webhook_endpoints` ADD `created_by` text;
--> statement-breakpoint
-- Endpoints created before this migration: the creator the audit log names (`webhook.created`,
-- written in the creation's batch with the same `created_at`, so the lookup is an index seek), if
-- they are still an owner or admin of the organization. Otherwise NULL, meaning "creator unknown"
-- (the audit row is past retention, or they are already gone): such an endpoint is never disabled
-- by this rule until an owner or admin enables it again or changes its URL, which makes them its
-- `created_by`. Disabling endpoints on upgrade would stop integrations no one was warned about.
UPDATE `webhook_endpoints` SET `created_by` = (
  SELECT a.actor_id FROM audit_events a
    JOIN memberships m ON m.organization_id = a.organization_id AND m.user_id = a.actor_id AND m.role IN ('owner', 'admin')
  WHERE a.organization_id = webhook_endpoints.organization_id AND a.created_at = webhook_endpoints.created_at
    AND a.action = 'webhook.created' AND a.target_type = 'webhook' AND a.target_id = webhook_endpoints.id AND a.actor_type = 'user'
  LIMIT 1);
