/** What a run reports; stored with each checkpoint so a resumed run reports the whole import. */
export interface Counters {
  lines: number;
  users: number;
  linksAdded: number;
  linksUpdated: number;
  linksRemoved: number;
  /** Live links the export says are gone, kept because --prune was not given. */
  linksStale: number;
  malformed: number;
  invalidNumbers: number;
  masked: number;
  mfaUsers: number;
  /** Users the export lists but Auth0 no longer has (404 on authentication-methods). */
  usersGone: number;
  apiCalls: number;
  throttled: number;
  /** First problems with their line numbers (never the numbers themselves: they are personal data). */
  malformedLines: { line: number; reason: string }[];
  invalidLines: { line: number; reason: string }[];
}

export const MAX_SAMPLES = 50;

export function emptyCounters(): Counters {
  return {
    lines: 0,
    users: 0,
    linksAdded: 0,
    linksUpdated: 0,
    linksRemoved: 0,
    linksStale: 0,
    malformed: 0,
    invalidNumbers: 0,
    masked: 0,
    mfaUsers: 0,
    usersGone: 0,
    apiCalls: 0,
    throttled: 0,
    malformedLines: [],
    invalidLines: [],
  };
}

/** Reads counters stored by an earlier run, tolerating older or partial shapes. */
export function restoreCounters(stored: unknown): Counters {
  const base = emptyCounters();
  if (typeof stored !== 'object' || stored === null) return base;
  const s = stored as Record<string, unknown>;
  for (const k of Object.keys(base) as (keyof Counters)[]) {
    const v = s[k];
    if (k === 'malformedLines' || k === 'invalidLines') {
      if (Array.isArray(v)) base[k] = v.slice(0, MAX_SAMPLES) as Counters[typeof k];
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      base[k] = v;
    }
  }
  return base;
}

export function addSample(list: { line: number; reason: string }[], line: number, reason: string): void {
  if (list.length < MAX_SAMPLES) list.push({ line, reason });
}
