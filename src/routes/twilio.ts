import { type Context, Hono } from 'hono';
import { getRuntimeKey } from 'hono/adapter';
import type { AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { describeError } from '../logger.js';
import { handleCallStatus } from '../services/call-status.js';
import { type Background, handleInbound } from '../services/inbound.js';
import {
  type TwilioEnv,
  type TwilioParams,
  twilioParam,
  twilioSignature,
  unsupportedMediaType,
  verifiedTwilioRequest,
} from '../services/twilio-signature.js';
import { menuTwiml } from '../services/twiml.js';
import { callerVerificationRoutes } from './caller-verification.js';

/**
 * Twilio's webhooks. Every request under /twilio passes the signature check first (including the caller
 * verification steps mounted here); routes then validate the fields they need and delegate.
 */

const TWIML_HEADERS = { 'content-type': 'text/xml; charset=utf-8' };
const IDEMPOTENCY_HEADER = 'i-twilio-idempotency-token';
const REGION = /^[A-Za-z]{2}$/;
const ON_WORKERD = getRuntimeKey() === 'workerd';

/**
 * On Workers the promise is handed to waitUntil so it can outlive the response; on Node it runs on the
 * event loop and is tracked (deps.background) so a shutdown waits for it.
 */
function backgroundFor(c: Context, deps: AppDeps): Background {
  // Only workerd has an execution context; asking Hono for a missing one throws (a cost per request).
  const ctx = ON_WORKERD ? c.executionCtx : undefined;
  return (task) => {
    const guarded = task.catch((err: unknown) =>
      deps.logger.error('background task failed', { error: describeError(err) }),
    );
    deps.background?.track(guarded);
    ctx?.waitUntil(guarded);
  };
}

function formParams(c: Context<TwilioEnv>): TwilioParams {
  const request = verifiedTwilioRequest(c);
  if (request.kind !== 'form') throw unsupportedMediaType();
  return request.params;
}

function required(params: TwilioParams, name: string): string {
  const value = twilioParam(params, name);
  if (value === undefined) throw badRequest(`${name} is required`);
  return value;
}

function requiredSid(params: TwilioParams, ...names: string[]): string {
  for (const name of names) {
    const value = twilioParam(params, name);
    if (value) return value;
  }
  throw badRequest(`${names[0]} is required`);
}

function regionOf(c: Context): string | undefined {
  const region = c.req.query('region');
  return region && REGION.test(region) ? region.toUpperCase() : undefined;
}

export function twilioRoutes(deps: AppDeps) {
  const app = new Hono<TwilioEnv>();
  app.use(twilioSignature(deps.config));

  app.post('/voice', async (c) => {
    const params = formParams(c);
    const from = required(params, 'From');
    const twiml = await handleInbound(
      deps,
      {
        channel: 'voice',
        sid: requiredSid(params, 'CallSid'),
        from,
        to: twilioParam(params, 'To') ?? null,
        stirVerstat: twilioParam(params, 'StirVerstat') || null,
        region: regionOf(c),
        idempotencyToken: c.req.header(IDEMPOTENCY_HEADER),
      },
      backgroundFor(c, deps),
    );
    return c.body(twiml, 200, TWIML_HEADERS);
  });

  app.post('/voice/menu', (c) => {
    const params = formParams(c);
    const interactionId = c.req.query('interaction') || requiredSid(params, 'CallSid');
    const twiml = menuTwiml(deps.config, { interactionId, digits: twilioParam(params, 'Digits') ?? '' });
    return c.body(twiml, 200, TWIML_HEADERS);
  });

  app.post('/voice/status', async (c) => {
    const params = formParams(c);
    await handleCallStatus(
      deps,
      {
        callSid: requiredSid(params, 'CallSid'),
        parentCallSid: twilioParam(params, 'ParentCallSid') || undefined,
        callStatus: required(params, 'CallStatus'),
        idempotencyToken: c.req.header(IDEMPOTENCY_HEADER),
      },
      backgroundFor(c, deps),
    );
    return c.body(null, 204);
  });

  app.route('/voice/verify', callerVerificationRoutes(deps));

  app.post('/sms', async (c) => {
    const params = formParams(c);
    const from = required(params, 'From');
    const twiml = await handleInbound(
      deps,
      {
        channel: 'sms',
        sid: requiredSid(params, 'MessageSid', 'SmsSid'),
        from,
        to: twilioParam(params, 'To') ?? null,
        stirVerstat: twilioParam(params, 'StirVerstat') || null,
        region: regionOf(c),
        idempotencyToken: c.req.header(IDEMPOTENCY_HEADER),
      },
      backgroundFor(c, deps),
    );
    return c.body(twiml, 200, TWIML_HEADERS);
  });

  return app;
}
