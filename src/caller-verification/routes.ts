import { type Context, Hono } from 'hono';
import { claimEvent, findEventResponse } from '../db/processed-events.js';
import type { AppDeps } from '../deps.js';
import { backgroundFor } from '../shared/background.js';
import { describeError } from '../shared/logger.js';
import { type TwilioEnv, twilioParam, verifiedTwilioRequest } from '../twilio/index.js';
import { checkVerification, PROMPTS, sayThenRouteTwiml, startVerification } from './caller-verification.js';

/**
 * The IVR's caller-verification steps, mounted at /twilio/voice/verify behind the Twilio signature
 * middleware (every request here is already verified):
 *   POST start?interaction=ID  text a one-time code to the caller, answer a <Gather>
 *   POST check?interaction=ID  check the digits (3 tries, 5 minutes), then route the call
 * Fail open: if anything here breaks, the caller is routed without verification.
 */

const TWIML_HEADERS = { 'content-type': 'text/xml; charset=utf-8' };
const IDEMPOTENCY_HEADER = 'i-twilio-idempotency-token';
const EVENT_SOURCE = 'twilio:verify-check';
const ID = /^[\w-]{1,64}$/;

function formParams(c: Context<TwilioEnv>) {
  const request = verifiedTwilioRequest(c);
  return request.kind === 'form' ? request.params : {};
}

export function callerVerificationRoutes(deps: AppDeps) {
  const app = new Hono<TwilioEnv>();

  const failOpen = (interactionId: string, err: unknown) => {
    deps.logger.error('caller verification failed; routing without it', { error: describeError(err) });
    return sayThenRouteTwiml(deps.config, { interactionId, message: PROMPTS.unavailable });
  };

  app.post('/start', async (c) => {
    const params = formParams(c);
    const callSid = twilioParam(params, 'CallSid');
    const interactionId = c.req.query('interaction') ?? callSid ?? '';
    if (!ID.test(interactionId))
      return c.body(failOpen('unknown', new Error('no interaction id')), 200, TWIML_HEADERS);
    let twiml: string;
    try {
      twiml = await startVerification(deps, { interactionId, callSid }, backgroundFor(c, deps));
    } catch (err) {
      twiml = failOpen(interactionId, err);
    }
    return c.body(twiml, 200, TWIML_HEADERS);
  });

  app.post('/check', async (c) => {
    const params = formParams(c);
    const interactionId = c.req.query('interaction') ?? twilioParam(params, 'CallSid') ?? '';
    if (!ID.test(interactionId))
      return c.body(failOpen('unknown', new Error('no interaction id')), 200, TWIML_HEADERS);
    // A redelivered check (Twilio retries once on a timeout) gets the first answer and costs no try.
    const token = c.req.header(IDEMPOTENCY_HEADER);
    let twiml: string;
    try {
      if (token) {
        const earlier = await findEventResponse(deps.db, EVENT_SOURCE, token);
        if (earlier) return c.body(earlier, 200, TWIML_HEADERS);
      }
      twiml = await checkVerification(
        deps,
        { interactionId, digits: twilioParam(params, 'Digits') },
        backgroundFor(c, deps),
      );
      if (token) await claimEvent(deps.db, EVENT_SOURCE, token, deps.now(), twiml);
    } catch (err) {
      twiml = failOpen(interactionId, err);
    }
    return c.body(twiml, 200, TWIML_HEADERS);
  });

  return app;
}
