import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What connect must remember between runs and that neither API keeps for it, in one file under data/
 * (gitignored): what it replaced (so --undo can put it back) and fingerprints of the secrets it set (Auth0
 * never returns an Action secret's value, nor, perhaps, a log stream's token, so without them a second run
 * could not tell whether they changed). Everything else is found again through markers the APIs keep:
 * callerpop's Action names, the log stream's name, the agents' application's client_metadata.
 *
 * A fingerprint is salted scrypt: the file never holds a secret or anything that gives one back cheaply.
 */

export interface BindingRecord {
  actionId: string;
  actionName: string;
  displayName: string;
}

export interface Auth0State {
  /** Per callerpop Action id: the fingerprint of the secrets connect last set on it. */
  actionSecrets: Record<string, string>;
  /** The fingerprint of the log stream's Authorization value connect last set. */
  logStreamAuthorization?: string;
  /** Per trigger: its bindings before connect first changed them. */
  bindingsBefore: Record<string, BindingRecord[]>;
  /** The tenant's phone provider before connect switched it (null: none). */
  phoneProviderBefore?: { provider: { name: string; configuration?: unknown; disabled?: boolean } | null };
  /** disable_management_api_sms_obfuscation before connect changed it (null: absent). */
  smsFlagBefore?: { value: boolean | null };
  /** What connect added to an agents' application it did not create. */
  agentAppAdded?: {
    clientId: string;
    callbacks: string[];
    allowed_logout_urls: string[];
    grant_types: string[];
    /** Settings connect changed, as they were. */
    previous: { token_endpoint_auth_method?: string; oidc_conformant?: boolean };
  };
}

export interface TwilioState {
  /** Per number SID: the fields connect changed, as they were before and as connect set them. */
  numbers: Record<
    string,
    { phoneNumber: string; before: Record<string, string | null>; set: Record<string, string | null> }
  >;
  /** Per Messaging Service SID, likewise. */
  services: Record<string, { before: Record<string, string | null>; set: Record<string, string | null> }>;
  /** The Verify service connect created (it deletes only that one). */
  verifyServiceCreated?: string;
}

export interface ConnectState {
  version: 1;
  auth0: Record<string, Auth0State>;
  twilio: Record<string, TwilioState>;
}

export interface StateFile {
  readonly path: string;
  readonly state: ConnectState;
  /** Writes the file now (after every change, so a run that dies half-way has recorded what it did). */
  save(): void;
}

export function openStateFile(path: string): StateFile {
  let state: ConnectState = { version: 1, auth0: {}, twilio: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConnectState>;
    if (parsed.version === 1) state = { version: 1, auth0: parsed.auth0 ?? {}, twilio: parsed.twilio ?? {} };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`${path} cannot be read (${(error as Error).message}): fix or move it, then run again`);
  }
  return {
    path,
    state,
    save() {
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      renameSync(temporary, path);
    },
  };
}

export function auth0StateOf(file: StateFile, domain: string): Auth0State {
  file.state.auth0[domain] ??= { actionSecrets: {}, bindingsBefore: {} };
  return file.state.auth0[domain];
}

export function twilioStateOf(file: StateFile, accountSid: string): TwilioState {
  file.state.twilio[accountSid] ??= { numbers: {}, services: {} };
  return file.state.twilio[accountSid];
}

const KEY_BYTES = 16;

export function fingerprint(secret: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64url')}$${scryptSync(secret, salt, KEY_BYTES).toString('base64url')}`;
}

export function matchesFingerprint(secret: string, recorded: string | undefined): boolean {
  const [kind, salt, hash] = recorded?.split('$') ?? [];
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(secret, Buffer.from(salt, 'base64url'), KEY_BYTES);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
