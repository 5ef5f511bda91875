CREATE TABLE `feed_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text,
	`last_run` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `held_log_events` (
	`id` text PRIMARY KEY NOT NULL,
	`log_id` text,
	`origin` text NOT NULL,
	`reason` text NOT NULL,
	`detail` text,
	`raw` text NOT NULL,
	`raw_truncated` integer DEFAULT false NOT NULL,
	`received_at` integer NOT NULL,
	`resolved_at` integer,
	`resolution` text
);
--> statement-breakpoint
CREATE INDEX `held_log_events_open` ON `held_log_events` (`resolved_at`,`received_at`);