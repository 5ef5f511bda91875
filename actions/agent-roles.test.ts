import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import {
  auth0User,
  loadAction,
  type PostLoginModule,
  postLoginEvent,
} from '../test/support/auth0-actions.js';
import { TEST_ENV } from '../test/support/context.js';

/**
 * actions/agent-roles.js run as Auth0 runs it: the CommonJS module, an event shaped as
 * main/docs/actions/reference/post-login/post-login-event-object.mdx describes it (auth0-action-events.ts),
 * and an `api.idToken` that records what post-login-api-object.mdx, "api.idToken.setCustomClaim(key, value)"
 * says it does: the claim is set on the ID token issued when the login completes.
 */

const AGENTS_CLIENT = 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww';
const { onExecutePostLogin } = loadAction<PostLoginModule>('agent-roles');

function recordingApi() {
  const idClaims: Record<string, unknown> = {};
  const accessClaims: Record<string, unknown> = {};
  return {
    idClaims,
    accessClaims,
    api: {
      idToken: {
        setCustomClaim: (key: string, value: unknown) => {
          idClaims[key] = value;
        },
      },
      accessToken: {
        setCustomClaim: (key: string, value: unknown) => {
          accessClaims[key] = value;
        },
      },
      access: { deny: () => undefined },
    },
  };
}

/** A login to `clientId` by a user holding `roles` (EVENT(post-login), "event.authorization" is optional). */
function login(options: {
  clientId?: string;
  roles?: unknown[] | null;
  secrets?: Record<string, string>;
  protocol?: string;
}) {
  const event = postLoginEvent('https://callerpop.example.com', {
    user: auth0User({ user_id: 'auth0|dana' }),
    protocol: options.protocol,
  });
  const { authorization: _documented, ...withoutAuthorization } = event;
  return {
    ...(options.roles === null ? withoutAuthorization : event),
    ...(options.roles ? { authorization: { roles: options.roles } } : {}),
    client: { ...event.client, client_id: options.clientId ?? AGENTS_CLIENT },
    secrets: options.secrets ?? {
      AGENT_CLIENT_ID: AGENTS_CLIENT,
      AGENT_ROLES_CLAIM: 'https://callerpop/roles',
    },
  };
}

describe('actions/agent-roles.js', () => {
  it("puts the agent's role names in the ID token under the claim callerpop reads", async () => {
    const { api, idClaims, accessClaims } = recordingApi();
    await onExecutePostLogin(login({ roles: ['agent', 'approver'] }), api);
    const claim = parseConfig(TEST_ENV).AGENT_ROLES_CLAIM;
    expect(idClaims).toEqual({ [claim]: ['agent', 'approver'] });
    // callerpop reads the ID token only: the access token (another audience) learns nothing.
    expect(accessClaims).toEqual({});
  });

  it('uses the claim name it is given (AGENT_ROLES_CLAIM)', async () => {
    const { api, idClaims } = recordingApi();
    const secrets = { AGENT_CLIENT_ID: AGENTS_CLIENT, AGENT_ROLES_CLAIM: 'https://pop.acme.example/roles' };
    await onExecutePostLogin(login({ roles: ['agent'], secrets }), api);
    expect(idClaims).toEqual({ 'https://pop.acme.example/roles': ['agent'] });
  });

  it('sets an empty list for a user without roles, or when event.authorization is absent', async () => {
    for (const roles of [[], null]) {
      const { api, idClaims } = recordingApi();
      await onExecutePostLogin(login({ roles }), api);
      expect(idClaims).toEqual({ 'https://callerpop/roles': [] });
    }
  });

  it('keeps only role names (strings)', async () => {
    const { api, idClaims } = recordingApi();
    await onExecutePostLogin(login({ roles: ['agent', 7, null, '', { name: 'x' }] }), api);
    expect(idClaims).toEqual({ 'https://callerpop/roles': ['agent'] });
  });

  it("tells no other application anyone's roles", async () => {
    const { api, idClaims } = recordingApi();
    await onExecutePostLogin(login({ roles: ['agent'], clientId: 'another-app-of-the-tenant' }), api);
    expect(idClaims).toEqual({});
  });

  it('does nothing until it knows the agents’ application (AGENT_CLIENT_ID unset)', async () => {
    const { api, idClaims } = recordingApi();
    await onExecutePostLogin(login({ roles: ['agent'], secrets: {} }), api);
    expect(idClaims).toEqual({});
  });

  it('refreshes the claim on a refresh-token exchange too (the trigger runs then: post-login.mdx)', async () => {
    const { api, idClaims } = recordingApi();
    await onExecutePostLogin(login({ roles: ['supervisor'], protocol: 'oauth2-refresh-token' }), api);
    expect(idClaims).toEqual({ 'https://callerpop/roles': ['supervisor'] });
  });
});
