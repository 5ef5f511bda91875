CREATE TABLE `accounts` (
	`user_id` text PRIMARY KEY NOT NULL,
	`connection` text,
	`email` text,
	`name` text,
	`blocked` integer,
	`last_login_at` integer,
	`primary_user_id` text,
	`deleted_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`agent_id` text NOT NULL,
	`agent_name` text,
	`action` text NOT NULL,
	`target` text,
	`detail` text DEFAULT '{}' NOT NULL,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_agent` ON `audit_log` (`agent_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target`,`at`);--> statement-breakpoint
CREATE TABLE `backfill_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`source_key` text NOT NULL,
	`source` text NOT NULL,
	`job_id` text,
	`options` text DEFAULT '{}' NOT NULL,
	`status` text NOT NULL,
	`snapshot_at` integer NOT NULL,
	`line` integer DEFAULT 0 NOT NULL,
	`counters` text DEFAULT '{}' NOT NULL,
	`error` text,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `backfill_runs_source` ON `backfill_runs` (`source_key`,`status`);--> statement-breakpoint
CREATE TABLE `backfill_seen` (
	`run_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`run_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `caller_verifications` (
	`interaction_id` text PRIMARY KEY NOT NULL,
	`code_hash` text NOT NULL,
	`salt` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`outcome` text DEFAULT 'pending' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `enrollment_decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`e164` text NOT NULL,
	`user_id` text NOT NULL,
	`policy` text NOT NULL,
	`decision` text NOT NULL,
	`reason` text NOT NULL,
	`conflicting` text DEFAULT '[]' NOT NULL,
	`channel` text,
	`trigger` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `enrollment_decisions_e164` ON `enrollment_decisions` (`e164`,`created_at`);--> statement-breakpoint
CREATE INDEX `enrollment_decisions_user` ON `enrollment_decisions` (`user_id`);--> statement-breakpoint
CREATE TABLE `interactions` (
	`id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`twilio_sid` text NOT NULL,
	`raw_from` text NOT NULL,
	`e164` text,
	`from_reason` text,
	`to_number` text,
	`stir_verstat` text,
	`status` text NOT NULL,
	`matches` text DEFAULT '[]' NOT NULL,
	`flags` text DEFAULT '{}' NOT NULL,
	`caller_verification` text DEFAULT 'not_attempted' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `interactions_twilio_sid` ON `interactions` (`twilio_sid`);--> statement-breakpoint
CREATE INDEX `interactions_created` ON `interactions` (`created_at`);--> statement-breakpoint
CREATE INDEX `interactions_updated` ON `interactions` (`updated_at`,`id`);--> statement-breakpoint
CREATE TABLE `link_watermarks` (
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`removed_at` integer NOT NULL,
	`kept_e164` text,
	PRIMARY KEY(`user_id`, `source`)
);
--> statement-breakpoint
CREATE TABLE `otp_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`recipient` text NOT NULL,
	`user_id` text,
	`channel` text NOT NULL,
	`purpose` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`code_hash` text,
	`twilio_sid` text,
	`country` text,
	`number_type` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `otp_deliveries_recipient` ON `otp_deliveries` (`recipient`,`created_at`);--> statement-breakpoint
CREATE INDEX `otp_deliveries_user` ON `otp_deliveries` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `phone_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`e164` text NOT NULL,
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`verified` integer DEFAULT false NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`event_at` integer NOT NULL,
	`removed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `phone_links_e164_user_source` ON `phone_links` (`e164`,`user_id`,`source`);--> statement-breakpoint
CREATE INDEX `phone_links_user` ON `phone_links` (`user_id`);--> statement-breakpoint
CREATE TABLE `processed_events` (
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`response` text,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`source`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `processed_events_received` ON `processed_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `verify_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`e164` text NOT NULL,
	`user_id` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `verify_attempts_number` ON `verify_attempts` (`e164`,`kind`,`at`);--> statement-breakpoint
CREATE INDEX `verify_attempts_user` ON `verify_attempts` (`user_id`,`kind`,`at`);--> statement-breakpoint
CREATE TABLE `verify_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`state` text NOT NULL,
	`csrf_token` text NOT NULL,
	`status` text NOT NULL,
	`e164` text,
	`previous_e164` text,
	`channel` text,
	`last_sent_at` integer,
	`verified_at` integer,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `verify_sessions_expires` ON `verify_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `verify_used_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`used_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `verify_used_tokens_expires` ON `verify_used_tokens` (`expires_at`);