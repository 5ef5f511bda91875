import { type Context, Hono } from 'hono';
import { callerVerificationRoutes } from '../caller-verification/index.js';
import type { AppDeps } from '../deps.js';
import { backgroundFor } from '../shared/background.js';
import { badRequest } from '../shared/errors.js';
import {
  type TwilioEnv,
  type TwilioParams,
  twilioParam,
  twilioSignature,
  unsupportedMediaType,
  verifiedTwilioRequest,
} from '../twilio/index.js';
import { handleCallStatus } from './call-status.js';
import { handleInbound, type InboundMessage } from './handle-inbound.js';
import { inboundAnswers, menuTwiml } from './twiml.js';

/**
 * Twilio's webhooks. Every request under /twilio passes the signature check first (including the caller
 * verification steps mounted here); routes then validate the fields they need and delegate.
 */

const TWIML_HEADERS = { 'content-type': 'text/xml; charset=utf-8' };
const IDEMPOTENCY_HEADER = 'i-twilio-idempotency-token';
const REGION = /^[A-Za-z]{2}$/;

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
  const answers = inboundAnswers(deps.config);

  /** A call or a text: the same path (normalize, match, record, publish, TwiML), keyed by its own SID. */
  const inbound = (channel: InboundMessage['channel'], ...sidNames: string[]) =>
    async function answerInbound(c: Context<TwilioEnv>) {
      const params = formParams(c);
      const from = required(params, 'From');
      const twiml = await handleInbound(
        deps,
        answers,
        {
          channel,
          sid: requiredSid(params, ...sidNames),
          from,
          to: twilioParam(params, 'To') ?? null,
          stirVerstat: twilioParam(params, 'StirVerstat') || null,
          region: regionOf(c),
          idempotencyToken: c.req.header(IDEMPOTENCY_HEADER),
        },
        backgroundFor(c, deps),
      );
      return c.body(twiml, 200, TWIML_HEADERS);
    };

  app.post('/voice', inbound('voice', 'CallSid'));

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

  app.post('/sms', inbound('sms', 'MessageSid', 'SmsSid'));

  return app;
}
