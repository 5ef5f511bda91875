CREATE TABLE `agent_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`sub` text NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`method` text NOT NULL,
	`admin` integer NOT NULL,
	`roles` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`roles_checked_at` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE INDEX `agent_sessions_sub` ON `agent_sessions` (`sub`);--> statement-breakpoint
CREATE INDEX `agent_sessions_expires` ON `agent_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `otp_deliveries` ADD `range` text;--> statement-breakpoint
CREATE INDEX `otp_deliveries_range` ON `otp_deliveries` (`range`,`created_at`);--> statement-breakpoint
CREATE INDEX `otp_deliveries_country` ON `otp_deliveries` (`country`,`created_at`);--> statement-breakpoint
CREATE INDEX `otp_deliveries_created` ON `otp_deliveries` (`created_at`);--> statement-breakpoint
ALTER TABLE `verify_attempts` ADD `session_id` text;--> statement-breakpoint
CREATE INDEX `verify_attempts_user_number` ON `verify_attempts` (`user_id`,`e164`,`kind`,`at`);--> statement-breakpoint
CREATE INDEX `verify_attempts_session` ON `verify_attempts` (`session_id`,`kind`,`at`);--> statement-breakpoint
ALTER TABLE `verify_sessions` ADD `verification_sid` text;--> statement-breakpoint
ALTER TABLE `verify_sessions` ADD `result_id` text;--> statement-breakpoint
ALTER TABLE `verify_sessions` ADD `confirmed_at` integer;--> statement-breakpoint
CREATE INDEX `verify_sessions_verification` ON `verify_sessions` (`verification_sid`);--> statement-breakpoint
CREATE INDEX `verify_sessions_result` ON `verify_sessions` (`result_id`);