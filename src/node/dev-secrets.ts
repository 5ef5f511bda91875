import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Local development secrets, created once and kept beside the database so that `npm start` needs no
 * setup and `npm run simulate` signs with the same values. Never used in production: there a missing
 * secret stops start-up.
 */
export interface DevSecrets {
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  AUTH0_WEBHOOK_SECRET: string;
  AUTH0_LOG_STREAM_TOKEN: string;
  ADMIN_TOKEN: string;
  SESSION_SECRET: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function generate(): DevSecrets {
  return {
    TWILIO_ACCOUNT_SID: `AC${hex(16)}`,
    TWILIO_AUTH_TOKEN: hex(16),
    AUTH0_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
    AUTH0_LOG_STREAM_TOKEN: hex(24),
    ADMIN_TOKEN: hex(24),
    SESSION_SECRET: hex(32),
  };
}

/** Reads the secrets file, creating it (mode 0600) on first use. */
export function loadDevSecrets(path: string): { secrets: DevSecrets; created: boolean } {
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<DevSecrets>;
    // A file from an older version may lack newer keys: fill them in and keep the rest.
    const merged = { ...generate(), ...parsed };
    if (Object.keys(parsed).length !== Object.keys(merged).length) writeSecrets(path, merged);
    return { secrets: merged, created: false };
  }
  const secrets = generate();
  writeSecrets(path, secrets);
  return { secrets, created: true };
}

function writeSecrets(path: string, secrets: DevSecrets) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}
