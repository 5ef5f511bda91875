import { afterEach, describe, expect, it } from 'vitest';
import {
  ALICE,
  type Auth0Fixture,
  createAuth0Fixture,
  deliverEvent,
  rows,
} from '../../test/support/auth0-context.js';
import { postAuth0Event } from '../../test/support/auth0-sign.js';
import { removeLinks, upsertLinks } from '../phone-index/index.js';

const NUMBER = '+14155550100';

function login(user: Record<string, unknown>, mfa: Record<string, unknown> = {}, at = Date.now()) {
  return { type: 'user.login', occurred_at: at, user, mfa };
}

async function post(f: Auth0Fixture, event: unknown) {
  const res = await postAuth0Event(f.ctx.app, event);
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean; applied: string[] };
}

const links = (f: Auth0Fixture) =>
  rows(
    f.ctx,
    'select e164, user_id, source, verified, removed_at is not null as removed from phone_links order by id',
  );

describe('account and phone lifecycle from the Actions', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  it('registers a database user with its profile phone, and a passwordless user with its login number', async () => {
    f = await createAuth0Fixture();
    expect(
      await post(f, {
        type: 'user.registered',
        occurred_at: Date.now(),
        user: { ...ALICE, phone_number: '+1 (415) 555-0100', phone_verified: false },
      }),
    ).toEqual({ ok: true, applied: ['account', 'profile_phone'] });
    expect(
      await post(f, {
        type: 'user.registered',
        occurred_at: Date.now(),
        user: { user_id: 'sms|6612', connection: 'sms', strategy: 'sms', phone_number: '+14155550199' },
      }),
    ).toEqual({ ok: true, applied: ['account', 'passwordless_phone'] });
    expect(await links(f)).toEqual([
      { e164: NUMBER, user_id: 'auth0|alice', source: 'profile', verified: 0, removed: 0 },
      { e164: '+14155550199', user_id: 'sms|6612', source: 'passwordless', verified: 1, removed: 0 },
    ]);
    expect(
      await rows(f.ctx, "select email, name, connection from accounts where user_id = 'auth0|alice'"),
    ).toEqual([
      { email: 'alice@example.com', name: 'Alice Example', connection: 'Username-Password-Authentication' },
    ]);
  });

  it('refreshes the account on login (last login, blocked, email, name) and records linked identities', async () => {
    f = await createAuth0Fixture();
    await post(
      f,
      login({
        ...ALICE,
        email: 'alice@new.example',
        blocked: true,
        last_login: '2026-11-20T10:00:00.000Z',
        identities: [
          { provider: 'auth0', user_id: 'alice' },
          { provider: 'sms', user_id: '6612', connection: 'sms' },
        ],
      }),
    );
    expect(
      await rows(
        f.ctx,
        'select user_id, email, blocked, last_login_at, primary_user_id from accounts order by user_id',
      ),
    ).toEqual([
      {
        user_id: 'auth0|alice',
        email: 'alice@new.example',
        blocked: 1,
        last_login_at: Date.parse('2026-11-20T10:00:00.000Z'),
        primary_user_id: null,
      },
      {
        user_id: 'sms|6612',
        email: null,
        blocked: null,
        last_login_at: null,
        primary_user_id: 'auth0|alice',
      },
    ]);
  });

  it('marks the number verified when the login completed a phone MFA', async () => {
    f = await createAuth0Fixture();
    await postAuth0Event(f.ctx.app, deliverEvent({ purpose: 'enrollment' }));
    await postAuth0Event(f.ctx.app, deliverEvent({ purpose: 'enrollment', recipient: '+14155550111' }));
    const answer = await post(
      f,
      login(ALICE, {
        multifactor: ['guardian'],
        enrolled_factors: [{ type: 'phone' }],
        methods: [
          { name: 'pwd', timestamp: new Date().toISOString() },
          { name: 'mfa', type: 'phone', timestamp: new Date().toISOString() },
        ],
      }),
    );
    expect(answer.applied).toContain('mfa_verified');
    // The number the latest code went to is the one proved.
    expect(await links(f)).toEqual([
      { e164: NUMBER, user_id: 'auth0|alice', source: 'mfa_sms', verified: 0, removed: 0 },
      { e164: '+14155550111', user_id: 'auth0|alice', source: 'mfa_sms', verified: 1, removed: 0 },
    ]);
  });

  it('removes MFA phone links when the user no longer has a phone factor, and keeps later enrollments', async () => {
    f = await createAuth0Fixture();
    const before = Date.now() - 10_000;
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', verified: true, at: before },
      { e164: '+14155550122', userId: 'auth0|alice', source: 'profile', at: before },
    ]);
    // A login that still has the phone factor changes nothing.
    await post(f, login(ALICE, { enrolled_factors: [{ type: 'phone' }, { type: 'recovery-code' }] }));
    expect((await links(f)).map((l) => l.removed)).toEqual([0, 0]);

    const answer = await post(
      f,
      login(ALICE, { enrolled_factors: [{ type: 'otp' }], multifactor: ['guardian'] }),
    );
    expect(answer.applied).toContain('mfa_removed');
    expect(await links(f)).toEqual([
      { e164: NUMBER, user_id: 'auth0|alice', source: 'mfa_sms', verified: 1, removed: 1 },
      { e164: '+14155550122', user_id: 'auth0|alice', source: 'profile', verified: 0, removed: 0 },
    ]);
    // An enrollment newer than that login brings it back.
    await postAuth0Event(f.ctx.app, deliverEvent({ purpose: 'enrollment', at: Date.now() + 1000 }));
    expect((await links(f))[0]).toMatchObject({ removed: 0 });
  });

  it('orders the proof by when the MFA happened: a later unenrollment wins', async () => {
    f = await createAuth0Fixture();
    const t0 = Date.now() - 60_000;
    await upsertLinks(f.ctx.deps.db, [{ e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at: t0 }]);
    await removeLinks(f.ctx.deps.db, {
      userId: 'auth0|alice',
      e164: NUMBER,
      source: 'mfa_sms',
      at: t0 + 20_000,
    });
    // A later session still lists the MFA done before the unenrollment (Auth0 naming the number).
    await post(
      f,
      login(ALICE, {
        enrolled_factors: [{ type: 'phone', options: { phone_number: NUMBER } }],
        methods: [{ name: 'mfa', type: 'phone', timestamp: new Date(t0 + 10_000).toISOString() }],
      }),
    );
    expect(await links(f)).toEqual([
      { e164: NUMBER, user_id: 'auth0|alice', source: 'mfa_sms', verified: 0, removed: 1 },
    ]);
  });

  it('leaves links alone when the Action could not tell which factors are enrolled', async () => {
    f = await createAuth0Fixture();
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at: Date.now() - 1000 },
    ]);
    expect((await post(f, login(ALICE))).applied).toEqual(['account']);
    expect((await links(f))[0]).toMatchObject({ removed: 0 });
  });

  it('uses numbers Auth0 names in the factor options to drop numbers no longer enrolled', async () => {
    f = await createAuth0Fixture();
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at: Date.now() - 1000 },
      { e164: '+14155550111', userId: 'auth0|alice', source: 'mfa_sms', at: Date.now() - 1000 },
    ]);
    await post(
      f,
      login(ALICE, {
        enrolled_factors: [{ type: 'phone', options: { phone_number: '+14155550111' } }],
        methods: [{ name: 'mfa', type: 'phone', timestamp: new Date().toISOString() }],
      }),
    );
    expect(await links(f)).toEqual([
      { e164: NUMBER, user_id: 'auth0|alice', source: 'mfa_sms', verified: 0, removed: 1 },
      { e164: '+14155550111', user_id: 'auth0|alice', source: 'mfa_sms', verified: 1, removed: 0 },
    ]);
  });
});
