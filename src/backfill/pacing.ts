import {
  type Auth0Plan,
  type BucketLimit,
  bucketsFor,
  describeLimit,
  estimateDurationMs,
} from '../auth0-api/index.js';

/**
 * What the backfill prints about its Management API pace: the documented limit it paces by (AUTH0_PLAN) and
 * how long the calls take at it. The estimate is rate-limits.ts's `estimateDurationMs`, checked against a
 * simulated bucket in src/auth0-api/rate-limiter.test.ts.
 */

/** The endpoint --mfa calls once per MFA user. */
const METHODS = { method: 'GET', path: '/users/{id}/authentication-methods' } as const;

export function methodsLimits(plan: Auth0Plan): readonly BucketLimit[] {
  return bucketsFor(plan, METHODS.method, METHODS.path);
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 3 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/** Calls after the burst is spent: the sustained rate alone. */
function sustainedMs(limits: readonly BucketLimit[], calls: number, reading?: 'fixed-window'): number {
  const burst = Math.max(0, ...limits.map((l) => l.burst));
  return estimateDurationMs(limits, calls + burst, reading);
}

/** Printed when an --mfa run starts. */
export function pacingNote(plan: Auth0Plan): string {
  const limits = methodsLimits(plan);
  const names = limits.map((l) => `${l.name} (${describeLimit(l)})`).join(' and ');
  const perThousand = sustainedMs(limits, 1000);
  const fixed = sustainedMs(limits, 1000, 'fixed-window');
  const alternative =
    fixed > perThousand * 1.1
      ? `; up to ${formatDuration(fixed)} if Auth0 refills it once per window, as rate-limit-use-cases.mdx describes`
      : '';
  return `Pacing authentication-methods calls by AUTH0_PLAN=${plan}: ${names}. About ${formatDuration(perThousand)} per 1,000 MFA users${alternative}.`;
}

/**
 * Time left for the calls still to come, projected from the share of the export read so far: the burst is
 * spent, so at the sustained rate.
 */
export function remainingApiTime(
  plan: Auth0Plan,
  callsSoFar: number,
  fractionRead: number,
): string | undefined {
  if (fractionRead <= 0 || callsSoFar === 0) return undefined;
  const remaining = Math.max(0, Math.round(callsSoFar / Math.min(1, fractionRead)) - callsSoFar);
  return formatDuration(sustainedMs(methodsLimits(plan), remaining));
}
