import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * One backfill run over one export (a file on disk, or a users-export job downloaded to disk). The
 * checkpoint is the last input line whose users are committed; it is written in the same transaction as
 * those users, so a killed run resumes exactly after the last committed batch.
 */
export const backfillRuns = sqliteTable(
  'backfill_runs',
  {
    id: text('id').primaryKey(),
    /** Identifies the input: the export job id, or the file's path, size and modification time. */
    sourceKey: text('source_key').notNull(),
    /** What to show a human: the path read, with the job id when it came from Auth0. */
    source: text('source').notNull(),
    jobId: text('job_id'),
    /** The options that change what is written (mfa, prune); a resume must use the same. */
    options: text('options', { mode: 'json' }).notNull().default(sql`'{}'`),
    /** abandoned: closed by `--restart`, never resumed. */
    status: text('status', { enum: ['running', 'completed', 'failed', 'abandoned'] }).notNull(),
    /** The time the export describes (job creation, or the file's mtime): removals are dated with it. */
    snapshotAt: integer('snapshot_at').notNull(),
    /** Last input line whose users are committed (0: none yet). */
    line: integer('line').notNull().default(0),
    /** Summary counters so far, so a resumed run reports the whole import. */
    counters: text('counters', { mode: 'json' }).notNull().default(sql`'{}'`),
    error: text('error'),
    startedAt: integer('started_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('backfill_runs_source').on(t.sourceKey, t.status)],
);

/** Users a `--prune` run has seen, so links of users missing from the export can be removed at the end. */
export const backfillSeen = sqliteTable(
  'backfill_seen',
  {
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.userId] })],
);
