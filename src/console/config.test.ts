import { describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { agentAuthMode, ConfigError, parseConfig } from '../config.js';
import { cookieOptions, safeReturnTo } from './session.js';

describe('agent sign-in configuration', () => {
  it('uses the token link locally and OIDC in production', () => {
    expect(agentAuthMode(parseConfig({ ...TEST_ENV }))).toBe('token');
    const explicit = parseConfig({ ...TEST_ENV, NODE_ENV: 'production', AGENT_AUTH: 'token' });
    expect(agentAuthMode(explicit)).toBe('token');
  });

  it('refuses to start in production without the OIDC settings, naming each one', () => {
    let error: unknown;
    try {
      parseConfig({ ...TEST_ENV, NODE_ENV: 'production' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'AUTH0_AGENT_CLIENT_ID',
      'AUTH0_AGENT_CLIENT_SECRET',
      'OIDC_ISSUER',
      'AGENT_REQUIRED_ROLE',
    ])
      expect(message).toContain(name);
  });

  it('starts in production with the tenant domain standing in for the issuer', () => {
    const config = parseConfig({
      ...TEST_ENV,
      NODE_ENV: 'production',
      AUTH0_DOMAIN: 'acme.us.auth0.com',
      AUTH0_AGENT_CLIENT_ID: 'client',
      AUTH0_AGENT_CLIENT_SECRET: 'secret',
      AGENT_REQUIRED_ROLE: 'agent',
    });
    expect(agentAuthMode(config)).toBe('oidc');
  });

  it('uses SameSite=None; Secure cookies only when framing is configured over https', () => {
    expect(cookieOptions(parseConfig({ ...TEST_ENV }))).toMatchObject({
      sameSite: 'Lax',
      secure: true,
      httpOnly: true,
    });
    const framed = parseConfig({ ...TEST_ENV, AGENT_FRAME_ANCESTORS: 'https://flex.twilio.com' });
    expect(cookieOptions(framed)).toMatchObject({ sameSite: 'None', secure: true });
    const local = parseConfig({ ...TEST_ENV, PUBLIC_BASE_URL: 'http://localhost:8787' });
    expect(cookieOptions(local)).toMatchObject({ sameSite: 'Lax', secure: false });
  });

  it('returns only to console paths after sign-in', () => {
    expect(safeReturnTo('/agent/pop/abc')).toBe('/agent/pop/abc');
    for (const bad of [
      'https://evil.example',
      '//evil.example',
      '/agent\\@evil',
      '/api/lookup',
      '/agent/login?x',
      undefined,
    ])
      expect(safeReturnTo(bad)).toBe('/agent');
  });
});
