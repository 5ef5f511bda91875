/**
 * One line of an Auth0 users export (format "json": one user object per line) turned into what the index
 * needs, or the reason it cannot be. Wrong types reject the whole user: nothing of it is written.
 */

export type ExportPhoneSource = 'passwordless' | 'profile';

export interface ExportPhone {
  raw: string;
  source: ExportPhoneSource;
  verified: boolean;
}

export interface ExportUser {
  userId: string;
  connection: string | null;
  email: string | null;
  name: string | null;
  blocked: boolean | null;
  lastLoginAt: number | null;
  /** Event time for everything the export says about this user: `updated_at`, else `created_at`. */
  at: number | null;
  phones: ExportPhone[];
  /** `multifactor` names a provider that may hold a phone factor: worth one authentication-methods call. */
  mayHavePhoneFactor: boolean;
}

export type LineOutcome = { kind: 'user'; user: ExportUser } | { kind: 'malformed'; reason: string };

/**
 * `multifactor` lists providers, not factors: Guardian covers SMS and voice as well as push, OTP and email,
 * so every Guardian user is a candidate. The legacy values name the phone factor directly.
 */
const PHONE_CAPABLE_PROVIDERS: ReadonlySet<string> = new Set(['guardian', 'sms', 'voice', 'phone']);
const MAX_ID_LENGTH = 512;

class Malformed extends Error {}

type Json = Record<string, unknown>;

/** Parses one line. Blank lines and the brackets/commas of a line-per-element JSON array are tolerated. */
export function parseLine(text: string): LineOutcome[] {
  let body = text.trim();
  if (body === '' || body === '[' || body === ']') return [];
  if (body.endsWith(',')) body = body.slice(0, -1);
  const value = parseJson(body);
  if (value === INVALID) return [{ kind: 'malformed', reason: 'not valid JSON' }];
  const items = Array.isArray(value) ? value : [value];
  return items.map(readUser);
}

const INVALID = Symbol('invalid');

/** A whole line, or the first / last element of an array written one element per line. */
function parseJson(body: string): unknown {
  const candidates = [body];
  if (body.startsWith('[')) candidates.push(body.slice(1));
  if (body.endsWith(']')) candidates.push(body.slice(0, -1));
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next reading
    }
  }
  return INVALID;
}

function readUser(value: unknown): LineOutcome {
  try {
    if (!isObject(value)) throw new Malformed('not a JSON object');
    return { kind: 'user', user: toExportUser(value) };
  } catch (error) {
    if (error instanceof Malformed) return { kind: 'malformed', reason: error.message };
    throw error;
  }
}

function toExportUser(o: Json): ExportUser {
  const userId = o.user_id;
  if (typeof userId !== 'string' || userId.trim() === '')
    throw new Malformed('user_id missing or not a string');
  if (userId.length > MAX_ID_LENGTH) throw new Malformed('user_id too long');
  const identities = readIdentities(o.identities);
  const primary = identities[0];
  const phoneNumber = optionalString(o, 'phone_number');
  const phoneVerified = optionalBoolean(o, 'phone_verified') ?? false;
  const phones: ExportPhone[] = [];
  if (phoneNumber !== null && phoneNumber.trim() !== '') {
    const passwordless = primary?.provider === 'sms' || primary?.connection === 'sms';
    phones.push({
      raw: phoneNumber,
      source: passwordless ? 'passwordless' : 'profile',
      verified: phoneVerified,
    });
  }
  // Linked accounts: a secondary passwordless identity keeps its number in profileData.
  for (const identity of identities.slice(1)) {
    if (identity.provider === 'sms' && identity.phone !== null) {
      phones.push({ raw: identity.phone, source: 'passwordless', verified: identity.phoneVerified });
    }
  }
  const multifactor = o.multifactor;
  if (multifactor !== undefined && multifactor !== null) {
    if (!Array.isArray(multifactor) || multifactor.some((m) => typeof m !== 'string'))
      throw new Malformed('multifactor is not a list of strings');
  }
  const updatedAt = optionalDate(o, 'updated_at');
  const createdAt = optionalDate(o, 'created_at');
  return {
    userId,
    connection: primary?.connection ?? null,
    email: optionalString(o, 'email'),
    name: optionalString(o, 'name'),
    blocked: optionalBoolean(o, 'blocked'),
    lastLoginAt: optionalDate(o, 'last_login'),
    at: updatedAt ?? createdAt,
    phones,
    mayHavePhoneFactor: Array.isArray(multifactor)
      ? multifactor.some((m) => PHONE_CAPABLE_PROVIDERS.has(String(m).toLowerCase()))
      : false,
  };
}

interface Identity {
  connection: string | null;
  provider: string | null;
  phone: string | null;
  phoneVerified: boolean;
}

function readIdentities(value: unknown): Identity[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Malformed('identities is not a list');
  return value.map((item) => {
    if (!isObject(item)) throw new Malformed('an identity is not an object');
    const profile = item.profileData;
    const profileData = isObject(profile) ? profile : {};
    return {
      connection: optionalString(item, 'connection', 'identities[].connection'),
      provider: optionalString(item, 'provider', 'identities[].provider'),
      phone: optionalString(profileData, 'phone_number', 'identities[].profileData.phone_number'),
      phoneVerified:
        optionalBoolean(profileData, 'phone_verified', 'identities[].profileData.phone_verified') ?? false,
    };
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(o: Json, key: string, label = key): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Malformed(`${label} is not a string`);
  return v;
}

function optionalBoolean(o: Json, key: string, label = key): boolean | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw new Malformed(`${label} is not true or false`);
  return v;
}

function optionalDate(o: Json, key: string): number | null {
  const v = o[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new Malformed(`${key} is not a date string`);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new Malformed(`${key} is not a valid date`);
  return ms;
}
