import type { Counters } from './counters.js';
import { MASKED_NUMBERS_FIX } from './mfa.js';

const n = (v: number) => v.toLocaleString('en-US');
/** Problems listed by line in the summary; the run keeps a few more in its record. */
const SHOWN = 10;

export interface SummaryInput {
  status: 'completed' | 'interrupted' | 'failed';
  counters: Counters;
  source: string;
  elapsedMs: number;
  dryRun: boolean;
  prune: boolean;
  mfa: boolean;
  /** AUTH0_PLAN: whose documented rate limits paced the calls. */
  plan?: string;
  resumedAfterLine: number;
  reason?: string;
}

/** The final report: every count the issue asks for, problems with their line numbers, fixes spelled out. */
export function formatSummary(s: SummaryInput): string {
  const c = s.counters;
  const head =
    s.status === 'completed'
      ? `Backfill completed${s.dryRun ? ' (dry run: nothing was written; these are the changes a real run would make)' : ''}`
      : s.status === 'interrupted'
        ? 'Backfill interrupted: everything up to the last checkpoint is saved; run the same command again to resume.'
        : `Backfill FAILED: ${s.reason ?? 'unknown error'}\nCommitted batches are kept; fix the cause and run the same command again to resume.`;
  const lines = [
    head,
    `  source            ${s.source}`,
    `  elapsed           ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  lines read        ${n(c.lines)}${s.resumedAfterLine > 0 ? ` (resumed after line ${n(s.resumedAfterLine)})` : ''}`,
    `  users             ${n(c.users)}`,
    `  links             added ${n(c.linksAdded)}, updated ${n(c.linksUpdated)}, removed ${n(c.linksRemoved)}`,
  ];
  if (c.linksStale > 0 && !s.prune)
    lines.push(
      `  gone, kept        ${n(c.linksStale)} links the export no longer lists (run with --prune to remove them)`,
    );
  if (s.mfa)
    lines.push(
      `  MFA               ${n(c.mfaUsers)} users asked, ${n(c.apiCalls)} API calls, ${n(c.throttled)} 429s, ${n(c.masked)} masked, ${n(c.usersGone)} users gone${s.plan ? ` (paced as AUTH0_PLAN=${s.plan})` : ''}`,
    );
  else lines.push('  MFA               not fetched (add --mfa to index SMS/voice MFA numbers)');
  lines.push(`  invalid numbers   ${n(c.invalidNumbers)}${samples(c.invalidLines, c.invalidNumbers)}`);
  lines.push(`  malformed lines   ${n(c.malformed)}${samples(c.malformedLines, c.malformed)}`);
  if (c.masked > 0) lines.push('', MASKED_NUMBERS_FIX);
  return lines.join('\n');
}

function samples(list: { line: number; reason: string }[], total: number): string {
  if (list.length === 0) return '';
  const shown = list
    .slice(0, SHOWN)
    .map((m) => `    line ${m.line}: ${m.reason}`)
    .join('\n');
  const more = total > SHOWN ? `\n    … and ${n(total - Math.min(SHOWN, list.length))} more` : '';
  return `\n${shown}${more}`;
}
