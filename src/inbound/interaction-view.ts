import type { Config } from '../config.js';
import type { InteractionChannel } from '../db/schema.js';
import type { Match } from '../phone-index/index.js';
import { formatPhoneForHumans } from '../shared/phone/format.js';
import type { InteractionFlags, InteractionRecord } from './interaction-queries.js';

/**
 * One call or text as every consumer sees it: `GET /api/interactions/:sid`, the push messages and the
 * agent console. Keep this shape stable: softphone and CRM plugins code against it.
 * Times are milliseconds since the epoch (the push message's `version` is `updatedAt`).
 */
export interface InteractionView {
  id: string;
  channel: InteractionChannel;
  twilioSid: string;
  /** `From` exactly as Twilio sent it. */
  caller: string;
  /** The caller in E.164, or null when `From` is not a usable number (see `fromReason`). */
  e164: string | null;
  /** What an agent reads: "+1 415 555 0100", "Number withheld", or the raw identity. */
  callerDisplay: string;
  fromReason: string | null;
  /** The callerpop number that was called or texted. */
  to: string | null;
  status: string;
  /** STIR/SHAKEN attestation from Twilio (e.g. TN-Validation-Passed-A), when it sent one. */
  stirVerstat: string | null;
  callerVerification: string;
  /** Every account that owns the number, strongest evidence first. */
  matches: Match[];
  sharedLine: boolean;
  /** ENROLLMENT_POLICY=warn let an account enroll this number although another person signed in with it. */
  policyWarning: boolean;
  flags: InteractionFlags;
  createdAt: number;
  updatedAt: number;
  /** The screen-pop page for this interaction. */
  popUrl: string;
}

const WITHHELD_REASONS: ReadonlySet<string> = new Set(['empty', 'withheld']);
const MAX_DISPLAY = 64;

function displayCaller(record: InteractionRecord): string {
  if (record.e164) return formatPhoneForHumans(record.e164);
  if (record.fromReason && WITHHELD_REASONS.has(record.fromReason)) return 'Number withheld';
  const raw = record.rawFrom.trim();
  if (raw === '') return 'Number withheld';
  return raw.length > MAX_DISPLAY ? `${raw.slice(0, MAX_DISPLAY - 1)}…` : raw;
}

export function popUrlFor(config: Pick<Config, 'PUBLIC_BASE_URL'>, id: string): string {
  return `${config.PUBLIC_BASE_URL}/agent/pop/${encodeURIComponent(id)}`;
}

export function toInteractionView(
  record: InteractionRecord,
  config: Pick<Config, 'PUBLIC_BASE_URL'>,
): InteractionView {
  return {
    id: record.id,
    channel: record.channel,
    twilioSid: record.twilioSid,
    caller: record.rawFrom,
    e164: record.e164,
    callerDisplay: displayCaller(record),
    fromReason: record.fromReason,
    to: record.toNumber,
    status: record.status,
    stirVerstat: record.stirVerstat,
    callerVerification: record.callerVerification,
    matches: record.matches,
    sharedLine: record.flags.sharedLine === true || record.matches.length > 1,
    policyWarning: record.flags.policyWarning === true,
    flags: record.flags,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    popUrl: popUrlFor(config, record.id),
  };
}
