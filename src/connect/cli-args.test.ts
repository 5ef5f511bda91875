import { describe, expect, it } from 'vitest';
import { parseConnectArgs, UsageError } from './cli-args.js';

describe('parseConnectArgs', () => {
  it('reads auth0 with its defaults and flags', () => {
    expect(parseConnectArgs(['auth0'])).toEqual({
      command: 'auth0',
      dryRun: false,
      undo: false,
      phone: 'none',
      verifyPhone: false,
      disableSmsObfuscation: false,
    });
    expect(parseConnectArgs(['auth0', '--phone', 'upe', '--verify-phone', '--dry-run'])).toMatchObject({
      phone: 'upe',
      verifyPhone: true,
      dryRun: true,
    });
  });

  it('reads twilio, normalizing the number as people type it', () => {
    expect(parseConnectArgs(['twilio', '--number', '+1 (415) 555-0100', '--verify-phone'])).toEqual({
      command: 'twilio',
      dryRun: false,
      undo: false,
      number: '+14155550100',
      fallbackUrl: undefined,
      verifyPhone: true,
      verifyName: 'callerpop',
    });
  });

  it.each([
    [[], /auth0 or twilio/],
    [['zendesk'], /auth0 or twilio/],
    [['auth0', '--phone', 'sms'], /--phone must be classic, upe or none/],
    [['auth0', '--number', '+14155550100'], /--number applies to twilio only/],
    [['twilio'], /--number must be the Twilio number in E\.164/],
    [['twilio', '--number', '4155550100'], /E\.164/],
    [['twilio', '--number', '+14155550100', '--phone', 'upe'], /--phone applies to auth0 only/],
    [['twilio', '--number', '+14155550100', '--fallback-url', 'http://x.example/bin'], /https:\/\//],
    [['twilio', '--number', '+14155550100', '--verify-name', 'Acme 12345'], /4 at most/],
    [['twilio', '--number', '+14155550100', '--verify-name', 'A name longer than thirty chars'], /1–30/],
    [['auth0', '--force'], /Unknown option/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseConnectArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseConnectArgs(argv as string[])).toThrow(message);
  });

  it('answers help', () => {
    expect(parseConnectArgs(['--help'])).toBe('help');
  });
});
