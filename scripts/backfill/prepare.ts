import type { PreparedUser } from '../../src/db/backfill.js';
import type { LinkInput } from '../../src/db/index-writes.js';
import type { PhoneSource } from '../../src/db/schema.js';
import { type NormalizedPhone, normalizePhone } from '../../src/phone/normalize.js';
import { addSample, type Counters } from './counters.js';
import type { MfaResult } from './mfa.js';
import type { ExportUser } from './record.js';

export interface PrepareContext {
  region: string;
  /** The time the export describes: event time of last resort, and the date of removals it implies. */
  snapshotAt: number;
  /** --mfa: phone factors were asked for, so the MFA sources are known for users without a phone factor. */
  mfa: boolean;
}

const CACHE_LIMIT = 100_000;
const cache = new Map<string, NormalizedPhone>();

/** Normalization is the costliest step per user; shared lines and repeated numbers are common. */
function normalizeCached(raw: string, region: string): NormalizedPhone {
  const k = `${region}:${raw}`;
  let hit = cache.get(k);
  if (!hit) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    hit = normalizePhone(raw, { region });
    cache.set(k, hit);
  }
  return hit;
}

/** Turns one export user (and its phone factors, when fetched) into the rows written for it. */
export function prepareUser(
  user: ExportUser,
  mfa: MfaResult | undefined,
  line: number,
  ctx: PrepareContext,
  counters: Counters,
): PreparedUser {
  const at = user.at ?? ctx.snapshotAt;
  const links: LinkInput[] = [];
  const add = (raw: string, source: PhoneSource, verified: boolean, linkAt: number) => {
    const n = normalizeCached(raw, ctx.region);
    if (!n.ok) {
      counters.invalidNumbers += 1;
      addSample(counters.invalidLines, line, `${source} number: ${n.reason}`);
      return;
    }
    links.push({ e164: n.e164, userId: user.userId, source, verified, at: linkAt });
  };
  for (const phone of user.phones) add(phone.raw, phone.source, phone.verified, at);

  const authoritative: PreparedUser['authoritative'] = [
    { source: 'passwordless', at: ctx.snapshotAt },
    { source: 'profile', at: ctx.snapshotAt },
  ];
  if (ctx.mfa) {
    if (!user.mayHavePhoneFactor) {
      authoritative.push(
        { source: 'mfa_sms', at: ctx.snapshotAt },
        { source: 'mfa_voice', at: ctx.snapshotAt },
      );
    } else if (mfa) {
      counters.mfaUsers += 1;
      counters.masked += mfa.masked;
      if (mfa.phones === undefined) counters.usersGone += 1;
      for (const phone of mfa.phones ?? []) add(phone.raw, phone.source, phone.verified, mfa.at);
      // A masked answer says nothing about which numbers are enrolled: nothing of the user's MFA is pruned.
      if (mfa.masked === 0)
        authoritative.push({ source: 'mfa_sms', at: mfa.at }, { source: 'mfa_voice', at: mfa.at });
    }
  }
  return {
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
    authoritative,
  };
}
