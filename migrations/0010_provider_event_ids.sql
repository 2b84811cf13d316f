-- SPEC §18, provider events: the delivery ids (Resend's `svix-id`) the event route has applied, so
-- that a signed event replayed while its timestamp is still accepted changes nothing. `claim` is the
-- request that recorded the id: the state change in the same batch applies only under its own claim,
-- so of two concurrent copies exactly one applies. Rows expire with the replay window (`expires_at`)
-- and the housekeeping cron deletes them by that index.
CREATE TABLE `provider_event_ids` (
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`claim` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`source`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `provider_event_ids_expires_idx` ON `provider_event_ids` (`expires_at`);
