import { getExpectedBodyHash, getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { TEST_ENV } from './context.js';

/**
 * Signs requests exactly as Twilio does, with the twilio package's own functions, so the tests check
 * callerpop against Twilio's algorithm rather than against a copy of it.
 */

export type FormParams = Record<string, string | string[]>;

/** Form body with repeated names kept (Twilio sends e.g. several `MediaUrl` or `StirPassportToken`). */
export function formBody(params: FormParams): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  }
  return body.toString();
}

export function signForm(url: string, params: FormParams, authToken: string = TEST_ENV.TWILIO_AUTH_TOKEN) {
  return getExpectedTwilioSignature(authToken, url, params);
}

/** The JSON form: the body's SHA-256 goes into the URL as `bodySHA256`, and only the URL is signed. */
export function signJson(url: string, body: string, authToken: string = TEST_ENV.TWILIO_AUTH_TOKEN) {
  const separator = url.includes('?') ? '&' : '?';
  const signedUrl = `${url}${separator}bodySHA256=${getExpectedBodyHash(body)}`;
  return { url: signedUrl, signature: getExpectedTwilioSignature(authToken, signedUrl, {}) };
}

export interface TwilioPostOptions {
  /** The public base URL the signature is made over (default TEST_ENV's). */
  baseUrl?: string;
  authToken?: string;
  /** Extra headers (e.g. I-Twilio-Idempotency-Token); `x-twilio-signature: null` leaves it out. */
  headers?: Record<string, string | null>;
}

/** A signed form POST to `pathAndQuery`, as a Request for `app.request` or fetch. */
export function twilioFormRequest(
  pathAndQuery: string,
  params: FormParams,
  options: TwilioPostOptions = {},
  origin = 'http://localhost',
): Request {
  const baseUrl = options.baseUrl ?? TEST_ENV.PUBLIC_BASE_URL;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': signForm(baseUrl + pathAndQuery, params, options.authToken),
    'user-agent': 'TwilioProxy/1.1',
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = value;
  }
  return new Request(origin + pathAndQuery, { method: 'POST', headers, body: formBody(params) });
}

let counter = 0;
/** A Twilio-shaped SID (prefix + 32 hex), unique within the test run. */
export function sid(prefix: 'CA' | 'SM' | 'MM'): string {
  counter += 1;
  return `${prefix}${counter.toString(16).padStart(8, '0')}${'0123456789abcdef'.repeat(2).slice(8)}`;
}

/** An inbound call's webhook fields, shaped like Twilio's (as saved from real requests). */
export function voiceParams(from: string, overrides: FormParams = {}): FormParams {
  return {
    AccountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: sid('CA'),
    CallStatus: 'ringing',
    CallToken: '%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9%22%7D',
    Called: '+14155550199',
    CalledCountry: 'US',
    Caller: from,
    CallerCountry: 'US',
    Direction: 'inbound',
    From: from,
    FromCity: 'SAN FRANCISCO',
    FromCountry: 'US',
    FromState: 'CA',
    FromZip: '94107',
    StirVerstat: 'TN-Validation-Passed-A',
    To: '+14155550199',
    ToCity: '',
    ToCountry: 'US',
    ToState: 'CA',
    ToZip: '',
    ...overrides,
  };
}

/** An inbound SMS's webhook fields, shaped like Twilio's. */
export function smsParams(from: string, body: string, overrides: FormParams = {}): FormParams {
  const messageSid = sid('SM');
  return {
    ToCountry: 'US',
    ToState: 'CA',
    SmsMessageSid: messageSid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '94107',
    SmsSid: messageSid,
    FromState: 'CA',
    SmsStatus: 'received',
    FromCity: 'SAN FRANCISCO',
    Body: body,
    FromCountry: 'US',
    To: '+14155550199',
    ToZip: '',
    NumSegments: '1',
    MessageSid: messageSid,
    AccountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    From: from,
    ApiVersion: '2010-04-01',
    ...overrides,
  };
}
