import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentConsoleLink, ConfigError, parseConfig } from '../src/config.js';
import { TEST_ENV } from './support/context.js';

function problemsOf(input: Record<string, string | undefined>): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig({ ...TEST_ENV });
    expect(config.PORT).toBe(8787);
    expect(config.DEFAULT_REGION).toBe('US');
    expect(config.ENROLLMENT_POLICY).toBe('warn');
    expect(config.VERIFY_CALLER).toBe('off');
    expect(config.ROUTE_TO).toEqual({ kind: 'queue', target: 'support' });
    expect(config.TWILIO_API_BASE_URL).toBe('https://api.twilio.com');
  });

  it('names every missing secret', () => {
    const problems = problemsOf({});
    for (const name of [
      'PUBLIC_BASE_URL',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'AUTH0_WEBHOOK_SECRET',
      'AUTH0_LOG_STREAM_TOKEN',
      'ADMIN_TOKEN',
      'SESSION_SECRET',
    ]) {
      expect(problems).toContain(`${name} is required`);
    }
  });

  it('says what is wrong with a malformed value', () => {
    const problems = problemsOf({ ...TEST_ENV, TWILIO_ACCOUNT_SID: 'SK123', ROUTE_TO: 'voicemail' });
    expect(problems.some((p) => p.startsWith('TWILIO_ACCOUNT_SID ') && p.includes('AC'))).toBe(true);
    expect(problems.some((p) => p.startsWith('ROUTE_TO ') && p.includes('queue:NAME'))).toBe(true);
  });

  it('treats an empty variable as unset, so a copied .env.example starts', () => {
    const example = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    const fromExample: Record<string, string> = {};
    for (const line of example.split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (match?.[1]) fromExample[match[1]] = match[2] ?? '';
    }
    expect(Object.keys(fromExample).length).toBeGreaterThan(30);
    const blanks = Object.fromEntries(Object.entries(fromExample).filter(([, v]) => v === ''));
    // Secrets are blank in the example: a real deployment supplies them (locally, the dev secrets do).
    const config = parseConfig({
      ...fromExample,
      ...TEST_ENV,
      ...blanksWithout(blanks, Object.keys(TEST_ENV)),
    });
    expect(config.AGENT_AUTH).toBeUndefined();
    expect(config.ENROLLMENT_BLOCK_MESSAGE.length).toBeGreaterThan(10);
    expect(config.ROUTE_TO).toEqual({ kind: 'queue', target: 'support' });
  });

  it('reads lists and route targets', () => {
    const config = parseConfig({
      ...TEST_ENV,
      SHARED_NUMBERS: ' +14155550100, +442079460958 ,',
      ROUTE_TO: 'client:agent-desk',
      OTP_ALLOWED_COUNTRIES: 'us,gb',
    });
    expect(config.SHARED_NUMBERS).toEqual(['+14155550100', '+442079460958']);
    expect(config.ROUTE_TO).toEqual({ kind: 'client', target: 'agent-desk' });
    expect(config.OTP_ALLOWED_COUNTRIES).toEqual(['US', 'GB']);
  });
});

function blanksWithout(blanks: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(blanks).filter(([k]) => !keys.includes(k)));
}

describe('agentConsoleLink (the start-up banner)', () => {
  const base = 'http://localhost:8787';
  it('prints the token link only for local token sign-in', () => {
    const local = parseConfig({ ...TEST_ENV });
    expect(agentConsoleLink(local, base)).toBe(
      `${base}/agent/login?token=${encodeURIComponent(local.ADMIN_TOKEN)}`,
    );
  });

  it('never prints the token in production or with OIDC sign-in', () => {
    const oidc = { AUTH0_AGENT_CLIENT_ID: 'agent-client', AUTH0_AGENT_CLIENT_SECRET: 's'.repeat(32) };
    for (const env of [
      { NODE_ENV: 'production', AGENT_AUTH: 'token' },
      { AGENT_AUTH: 'oidc', ...oidc },
    ]) {
      const config = { ...parseConfig({ ...TEST_ENV }), ...env } as Parameters<typeof agentConsoleLink>[0];
      const link = agentConsoleLink(config, base);
      expect(link).toBe(`${base}/agent`);
      expect(link).not.toContain(config.ADMIN_TOKEN);
    }
  });
});
