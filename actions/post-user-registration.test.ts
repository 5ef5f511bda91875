import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchNumber } from '../src/phone-index/matching.js';
import {
  auth0User,
  closeAuth0Fixture,
  loadAction,
  type PostUserRegistrationModule,
  postUserRegistrationEvent,
  type ServedApp,
  SMS_CONNECTION,
  serveAuth0Fixture,
  smsUser,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, rows } from '../test/support/auth0-context.js';

describe('actions/post-user-registration.js', () => {
  let f: Auth0Fixture;
  let served: ServedApp;
  const { onExecutePostUserRegistration } = loadAction<PostUserRegistrationModule>('post-user-registration');
  beforeEach(async () => {
    ({ f, served } = await serveAuth0Fixture());
  });
  afterEach(() => closeAuth0Fixture(f, served));

  it('indexes a new database user with its profile phone', async () => {
    const user = auth0User({ phone_number: '+14155550100', phone_verified: true });
    await onExecutePostUserRegistration(postUserRegistrationEvent(served.url, user));
    expect(await rows(f.ctx, 'select user_id, email, name, connection from accounts')).toEqual([
      {
        user_id: 'auth0|alice',
        email: 'alice@example.com',
        name: 'Alice Example',
        connection: 'Username-Password-Authentication',
      },
    ]);
    const result = await matchNumber(f.ctx.deps.db, '+14155550100');
    expect(result.matches).toMatchObject([{ userId: 'auth0|alice', sources: ['profile'], verified: true }]);
  });

  it('applies one registration once however often Auth0 runs the Action for it', async () => {
    const user = auth0User({ phone_number: '+14155550100', phone_verified: true });
    await onExecutePostUserRegistration(postUserRegistrationEvent(served.url, user));
    await onExecutePostUserRegistration(postUserRegistrationEvent(served.url, user));
    expect(
      await rows(f.ctx, "select count(*) as n from processed_events where source = 'auth0-action'"),
    ).toEqual([{ n: 1 }]);
  });

  it('indexes a passwordless SMS user by its login number', async () => {
    // No identities on this trigger's event.user: the connection says it is passwordless.
    const event = postUserRegistrationEvent(served.url, smsUser('+14155550199'), SMS_CONNECTION);
    expect(event.user).not.toHaveProperty('identities');
    await onExecutePostUserRegistration(event);
    const result = await matchNumber(f.ctx.deps.db, '+14155550199');
    expect(result.matches).toMatchObject([{ userId: 'sms|6612d0c3a1', sources: ['passwordless'] }]);
  });

  it('never fails the signup when callerpop is unreachable or refuses the secret', async () => {
    const event = postUserRegistrationEvent('http://127.0.0.1:9', auth0User());
    await expect(onExecutePostUserRegistration(event)).resolves.toBeUndefined();
    const wrong = postUserRegistrationEvent(served.url, auth0User());
    wrong.secrets.CALLERPOP_SECRET = `whsec_${btoa('not-the-callerpop-secret-at-all!!')}`;
    await expect(onExecutePostUserRegistration(wrong)).resolves.toBeUndefined();
    expect(await rows(f.ctx, 'select count(*) as n from accounts')).toEqual([{ n: 0 }]);
  });
});
