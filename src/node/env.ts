import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, type ConfigInput, parseConfig } from '../config.js';
import { loadDevSecrets } from './dev-secrets.js';

export const DATA_DIR = resolve(process.env.CALLERPOP_DATA_DIR ?? 'data');
export const DEV_SECRETS_PATH = resolve(DATA_DIR, 'dev-secrets.json');

/**
 * The Node entry's view of configuration: `.env` if present, then the process environment, then (outside
 * production) the local development secrets for whatever is still missing.
 */
export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  devSecretsCreated: boolean;
  usingDevSecrets: boolean;
} {
  if (existsSync('.env') && env === process.env) process.loadEnvFile('.env');
  const input: ConfigInput = { ...env };
  const production = input.NODE_ENV === 'production';
  let devSecretsCreated = false;
  let usingDevSecrets = false;
  if (!production) {
    const { secrets, created } = loadDevSecrets(DEV_SECRETS_PATH);
    devSecretsCreated = created;
    for (const [key, value] of Object.entries(secrets)) {
      if (!input[key]) {
        input[key] = value;
        usingDevSecrets = true;
      }
    }
    input.PUBLIC_BASE_URL ||= `http://localhost:${input.PORT || 8787}`;
  }
  input.DATABASE_URL ||= `file:${resolve(DATA_DIR, 'callerpop.db')}`;
  return { config: parseConfig(input), devSecretsCreated, usingDevSecrets };
}
