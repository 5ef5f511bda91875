import type { PhoneSource } from '../db/schema.js';
import type { AccountInput, LinkInput } from '../phone-index/index.js';
import { type NormalizedPhone, normalizePhone } from '../shared/phone/normalize.js';
import type { MfaResult } from './mfa.js';
import type { PreparedUser } from './queries.js';
import type { ExportUser } from './record.js';

export interface PrepareContext {
  region: string;
  /** The time the export describes: event time of last resort, and the date of removals it implies. */
  snapshotAt: number;
  /** --mfa: phone factors were asked for, so the MFA sources are known for users without a phone factor. */
  mfa: boolean;
}

export interface Problems {
  invalidNumbers: number;
  invalidLines: { line: number; reason: string }[];
}

/** A user as the parse worker hands it over: account and export links ready, phone factors still to come. */
export interface WireUser {
  line: number;
  account: AccountInput;
  links: LinkInput[];
  mayHavePhoneFactor: boolean;
}

const CACHE_LIMIT = 20_000;
const SAMPLES = 50;
/**
 * Normalization is the costliest step per user and shared lines and repeated numbers are common: a parse
 * worker keeps one bounded memo of it (createNumberMemo) for the run.
 */
export type NumberMemo = Map<string, NormalizedPhone>;
export const createNumberMemo = (): NumberMemo => new Map();

function normalizeWith(memo: NumberMemo | undefined, raw: string, region: string): NormalizedPhone {
  if (!memo) return normalizePhone(raw, { region });
  const k = `${region}:${raw}`;
  let hit = memo.get(k);
  if (!hit) {
    if (memo.size >= CACHE_LIMIT) memo.clear();
    hit = normalizePhone(raw, { region });
    memo.set(k, hit);
  }
  return hit;
}

function addLink(
  links: LinkInput[],
  problems: Problems,
  line: number,
  region: string,
  link: { raw: string; userId: string; source: PhoneSource; verified: boolean; at: number },
  memo?: NumberMemo,
): void {
  const n = normalizeWith(memo, link.raw, region);
  if (!n.ok) {
    problems.invalidNumbers += 1;
    if (problems.invalidLines.length < SAMPLES)
      problems.invalidLines.push({ line, reason: `${link.source} number: ${n.reason}` });
    return;
  }
  links.push({
    e164: n.e164,
    userId: link.userId,
    source: link.source,
    verified: link.verified,
    at: link.at,
  });
}

/** What the export alone says about one user (runs in the parse worker). */
export function prepareExportUser(
  user: ExportUser,
  line: number,
  ctx: Pick<PrepareContext, 'region' | 'snapshotAt'> & { memo?: NumberMemo },
  problems: Problems,
): WireUser {
  const at = user.at ?? ctx.snapshotAt;
  const links: LinkInput[] = [];
  for (const p of user.phones)
    addLink(
      links,
      problems,
      line,
      ctx.region,
      {
        raw: p.raw,
        userId: user.userId,
        source: p.source,
        verified: p.verified,
        at,
      },
      ctx.memo,
    );
  return {
    line,
    account: {
      userId: user.userId,
      connection: user.connection,
      email: user.email,
      name: user.name,
      blocked: user.blocked,
      lastLoginAt: user.lastLoginAt,
      at,
    },
    links,
    mayHavePhoneFactor: user.mayHavePhoneFactor,
  };
}

export interface MfaTally {
  mfaUsers: number;
  masked: number;
  usersGone: number;
}

/** Adds the phone factors (when fetched) and the scope a prune may remove from. */
export function completeUser(
  wire: WireUser,
  mfa: MfaResult | undefined,
  ctx: PrepareContext,
  problems: Problems,
  tally: MfaTally,
): PreparedUser {
  const authoritative: PreparedUser['authoritative'] = [
    { source: 'passwordless', at: ctx.snapshotAt },
    { source: 'profile', at: ctx.snapshotAt },
  ];
  const links = wire.links;
  if (ctx.mfa) {
    if (!wire.mayHavePhoneFactor) {
      authoritative.push(
        { source: 'mfa_sms', at: ctx.snapshotAt },
        { source: 'mfa_voice', at: ctx.snapshotAt },
      );
    } else if (mfa) {
      tally.mfaUsers += 1;
      tally.masked += mfa.masked;
      if (mfa.phones === undefined) tally.usersGone += 1;
      const userId = wire.account.userId;
      for (const p of mfa.phones ?? [])
        addLink(links, problems, wire.line, ctx.region, {
          raw: p.raw,
          userId,
          source: p.source,
          verified: p.verified,
          at: mfa.at,
        });
      // A masked answer says nothing about which numbers are enrolled: nothing of the user's MFA is pruned.
      if (mfa.masked === 0)
        authoritative.push({ source: 'mfa_sms', at: mfa.at }, { source: 'mfa_voice', at: mfa.at });
    }
  }
  return { account: wire.account, links, authoritative };
}
