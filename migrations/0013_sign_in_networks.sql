-- SPEC §18, no sign-in lockout by strangers. The networks each account signed in from, keyed as
-- the sign-in budgets count them (an IPv4 address, or an IPv6 /64: `ipBucket` in
-- src/rate-limit/rate-limit.ts), written in the batch that creates the session. A sign-in link
-- asked for from one of them is not held back by the address's daily ceiling (it still has its own
-- per-network budget), so strangers who use up the day elsewhere cannot lock the owner out. Rows
-- outlive the sessions (signing out keeps them) and are deleted a year after their last sign-in.
CREATE TABLE `sign_in_networks` (
	`user_id` text NOT NULL,
	`network` text NOT NULL,
	`last_signed_in_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `network`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sign_in_networks_last_idx` ON `sign_in_networks` (`last_signed_in_at`);--> statement-breakpoint
-- Sessions signed in before this migration, from an IPv4 address (stored as is, so the address is
-- its own network key; an IPv6 session's /64 is left to its next sign-in).
INSERT OR IGNORE INTO `sign_in_networks` (`user_id`, `network`, `last_signed_in_at`)
  SELECT `user_id`, `ip`, max(`created_at`) FROM `sessions`
  WHERE `ip` GLOB '[0-9]*.[0-9]*.[0-9]*.[0-9]*' AND `ip` NOT GLOB '*[^0-9.]*'
  GROUP BY `user_id`, `ip`;--> statement-breakpoint
-- SPEC §18 and §14: "Sign out everywhere" records when it ran; an invitation link emailed before
-- then no longer signs its invitee in, however fresh (it still joins, and emails a sign-in link).
ALTER TABLE `users` ADD `signed_out_everywhere_at` integer;
