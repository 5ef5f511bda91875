import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test/support/context.js';
import { agentConsoleLink, ConfigError, parseConfig } from './config.js';

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

describe('AUTH0_WEBHOOK_SECRET', () => {
  const key = (bytes: number) => `whsec_${btoa('k'.repeat(bytes))}`;
  it('accepts the test secrets and a rotation list', () => {
    expect(problemsOf({ ...TEST_ENV })).toEqual([]);
    expect(
      problemsOf({ ...TEST_ENV, AUTH0_WEBHOOK_SECRET: `whsec_${btoa('callerpop-workers-webhook-secret!')}` }),
    ).toEqual([]);
    expect(problemsOf({ ...TEST_ENV, AUTH0_WEBHOOK_SECRET: `${key(32)} ${key(24)}` })).toEqual([]);
  });

  it('refuses a secret whose key is empty, not base64 or shorter than 24 bytes, in any position', () => {
    for (const value of [
      'whsec_',
      'whsec_!!!!',
      key(3),
      key(23),
      `${key(32)} whsec_!!!!`,
      `${key(32)} ${key(3)}`,
      btoa('k'.repeat(32)),
    ]) {
      const problems = problemsOf({ ...TEST_ENV, AUTH0_WEBHOOK_SECRET: value });
      expect(problems, value).toHaveLength(1);
      expect(problems[0]).toMatch(/^AUTH0_WEBHOOK_SECRET must be Standard Webhooks secrets/);
    }
  });
});

describe('https in production', () => {
  const production = {
    ...TEST_ENV,
    NODE_ENV: 'production',
    AGENT_AUTH: 'token',
  } as const;
  const names = [
    'PUBLIC_BASE_URL',
    'TWILIO_API_BASE_URL',
    'TWILIO_VERIFY_BASE_URL',
    'AUTH0_CONTINUE_BASE_URL',
    'AUTH0_API_BASE_URL',
  ];

  it('refuses plain-http URLs, naming each one', () => {
    const http = Object.fromEntries(names.map((n) => [n, 'http://callerpop.example.com']));
    expect(problemsOf({ ...production, ...http })).toEqual(
      names.map((n) => `${n} must be an https:// URL in production`),
    );
  });

  it('allows loopback stand-ins, https, and plain http outside production', () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', 'twilio.localhost']) {
      const loopback = Object.fromEntries(names.map((n) => [n, `http://${host}:8080`]));
      expect(problemsOf({ ...production, ...loopback }), host).toEqual([]);
    }
    const https = Object.fromEntries(names.map((n) => [n, 'https://callerpop.example.com']));
    expect(problemsOf({ ...production, ...https })).toEqual([]);
    const http = Object.fromEntries(names.map((n) => [n, 'http://callerpop.example.com']));
    expect(problemsOf({ ...TEST_ENV, ...http })).toEqual([]);
  });
});

describe('production is explicit', () => {
  const development = { ...TEST_ENV, DEV_TUNNEL: undefined };

  it('refuses a public PUBLIC_BASE_URL outside production, unless DEV_TUNNEL says it is a tunnel', () => {
    const problems = problemsOf({ ...development, PUBLIC_BASE_URL: 'https://calls.example.com' });
    expect(problems).toEqual([
      expect.stringMatching(/^PUBLIC_BASE_URL \(calls\.example\.com\) is a public address/),
    ]);
    expect(
      problemsOf({ ...development, PUBLIC_BASE_URL: 'https://calls.example.com', DEV_TUNNEL: 'true' }),
    ).toEqual([]);
    expect(problemsOf({ ...development, PUBLIC_BASE_URL: 'http://localhost:8787' })).toEqual([]);
    expect(
      problemsOf({
        ...development,
        PUBLIC_BASE_URL: 'https://calls.example.com',
        NODE_ENV: 'production',
        AGENT_AUTH: 'token',
      }),
    ).toEqual([]);
  });

  it('refuses the agents’ OIDC settings outside production, naming them', () => {
    const local = { ...development, PUBLIC_BASE_URL: 'http://localhost:8787' };
    const problems = problemsOf({
      ...local,
      AGENT_AUTH: 'oidc',
      AUTH0_AGENT_CLIENT_ID: 'client',
      AUTH0_AGENT_CLIENT_SECRET: 'secret',
      OIDC_ISSUER: 'http://localhost:9000/',
      AGENT_REQUIRED_ROLE: 'agent',
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^AGENT_AUTH=oidc, AUTH0_AGENT_CLIENT_ID, AUTH0_AGENT_CLIENT_SECRET, OIDC_ISSUER: agents/,
      ),
    ]);
    expect(problemsOf({ ...local, AUTH0_AGENT_CLIENT_ID: 'client' })).toHaveLength(1);
  });

  it('listens on loopback unless HOST says otherwise', () => {
    expect(parseConfig({ ...TEST_ENV }).HOST).toBe('127.0.0.1');
    expect(parseConfig({ ...TEST_ENV, HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });
});

describe('production refuses weak secrets, naming the variable', () => {
  const production = { ...TEST_ENV, NODE_ENV: 'production', AGENT_AUTH: 'token' };
  const zeros = `whsec_${btoa('\0'.repeat(32))}`;

  it.each([
    ['ADMIN_TOKEN', 'a'.repeat(40), /one or two characters repeated/],
    ['ADMIN_TOKEN', 'abcd'.repeat(10), /repeats a short pattern/],
    ['SESSION_SECRET', 'ab'.repeat(20), /one or two characters repeated/],
    ['SESSION_SECRET', '0101010101010101010101010101010123', /too little entropy/],
    ['AUTH0_LOG_STREAM_TOKEN', '0000000000000000', /one or two characters repeated/],
    ['AUTH0_WEBHOOK_SECRET', zeros, /all zero bytes/],
    ['AUTH0_WEBHOOK_SECRET', `${TEST_ENV.AUTH0_WEBHOOK_SECRET} ${zeros}`, /all zero bytes/],
  ])('%s = %s', (name, value, reason) => {
    const problems = problemsOf({ ...production, [name]: value });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name} is too weak for production: `))]);
    expect(problems[0]).toMatch(reason);
  });

  it('accepts secrets made as the docs say', () => {
    const random = (bytes: number) =>
      Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join(
        '',
      );
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    expect(
      problemsOf({
        ...production,
        ADMIN_TOKEN: random(24),
        SESSION_SECRET: random(32),
        AUTH0_LOG_STREAM_TOKEN: random(24),
        AUTH0_WEBHOOK_SECRET: `whsec_${key}`,
      }),
    ).toEqual([]);
    // Outside production the same weak values are only a development box's business.
    expect(problemsOf({ ...TEST_ENV, ADMIN_TOKEN: 'a'.repeat(40) })).toEqual([]);
  });
});
