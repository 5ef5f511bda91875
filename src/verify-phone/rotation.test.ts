import { afterEach, describe, expect, it } from 'vitest';
import { newWebhookSecret, postAuth0Event } from '../../test/support/auth0-sign.js';
import {
  createVerifyHarness,
  newUser,
  PageClient,
  type VerifyHarness,
} from '../../test/support/verify-harness.js';

/**
 * Rotating the secret the Actions and callerpop share, as docs/auth0.md ("Rotating the secret") tells an
 * operator to: every login that is under way while a step is taken still completes, wherever in the login the
 * step falls, and the Standard Webhooks calls keep passing at every step.
 */

let h: VerifyHarness;
afterEach(async () => h?.close());

const PHONE = '+14155550123';
const OLD = newWebhookSecret();
const NEW = newWebhookSecret();

/** Each step changes one side: `actions` is CALLERPOP_SECRET, `callerpop` is AUTH0_WEBHOOK_SECRET. */
const STEPS: { side: 'actions' | 'callerpop'; value: string }[] = [
  { side: 'callerpop', value: `${OLD} ${NEW}` },
  { side: 'actions', value: `${NEW} ${OLD}` },
  { side: 'callerpop', value: NEW },
  { side: 'actions', value: NEW },
];

/** The four legs of a login; the step is taken after the named one. */
const LEGS = ['the Action redirects', 'callerpop opens the page', 'callerpop signs the result'] as const;

function secretsBefore(step: number) {
  const state = { actions: OLD, callerpop: OLD };
  for (const s of STEPS.slice(0, step)) state[s.side] = s.value;
  return state;
}

function apply(step: number) {
  const s = STEPS[step];
  if (!s) throw new Error(`no step ${step}`);
  if (s.side === 'actions') h.tenant.secrets = { ...h.tenant.secrets, CALLERPOP_SECRET: s.value };
  else h.setCallerpopSecret(s.value);
}

describe('secret rotation', () => {
  for (const [step, { side }] of STEPS.entries()) {
    for (const [leg, legName] of LEGS.entries()) {
      it(`a login spanning step ${step + 1} (${side}) taken after ${legName} completes`, async () => {
        h = await createVerifyHarness();
        const before = secretsBefore(step);
        h.tenant.secrets = { ...h.tenant.secrets, CALLERPOP_SECRET: before.actions };
        h.setCallerpopSecret(before.callerpop);

        const login = h.tenant.login(h.action, newUser('auth0|rotating', PHONE));
        const { redirectUrl } = await login.execute();
        if (leg === 0) apply(step);
        const page = new PageClient(h.ctx);
        expect((await page.get(redirectUrl ?? '')).status).toBe(303);
        if (leg === 1) apply(step);
        const csrf = await page.csrf();
        expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' })).status).toBe(303);
        const res = await page.post('/verify/code', { csrf, code: h.twilio.lastCode(PHONE) ?? '' });
        expect(res.status).toBe(303);
        if (leg === 2) apply(step);
        const outcome = await h.tenant.continue(
          Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams),
        );
        expect(outcome?.denied).toBeUndefined();
        expect(outcome?.appMetadata.callerpop_verified_phone).toBe(PHONE);
      });
    }
  }

  it('keeps the Actions’ signed callbacks passing at every step', async () => {
    h = await createVerifyHarness();
    for (let step = 0; step <= STEPS.length; step++) {
      const state = secretsBefore(step);
      h.setCallerpopSecret(state.callerpop);
      // The Action scripts send one signature per secret they hold.
      const res = await postAuth0Event(
        h.ctx.app,
        { type: 'user.login', occurred_at: h.clock.now, user: { user_id: `auth0|step${step}` } },
        { secrets: state.actions.split(' ') },
      );
      expect(res.status, `after step ${step}`).toBeLessThan(300);
    }
  });

  it('would break a login if the Actions signed with a secret callerpop does not hold yet', async () => {
    // The order matters: the Actions sign with their first secret, so they must not lead with one callerpop
    // has not been given.
    h = await createVerifyHarness();
    h.setCallerpopSecret(OLD);
    h.tenant.secrets = { ...h.tenant.secrets, CALLERPOP_SECRET: `${NEW} ${OLD}` };
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|early', PHONE)).execute();
    expect((await new PageClient(h.ctx).get(redirectUrl ?? '')).status).toBe(401);
  });
});
