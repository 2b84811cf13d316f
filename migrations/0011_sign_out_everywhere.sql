-- SPEC §18, ending a compromise from the dashboard. A revoked API token keeps its row
-- (`revoked_at`): the email about its creation is rendered from that row, so it still reaches
-- the account when the token was revoked before the email left. `locale`: that email's language.
ALTER TABLE `api_tokens` ADD `revoked_at` integer;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `locale` text;--> statement-breakpoint
-- Signing out everywhere uses up every unused sign-in link of the address.
CREATE INDEX `sign_in_links_email_idx` ON `sign_in_links` (`email`);
