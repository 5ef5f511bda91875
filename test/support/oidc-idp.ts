import type { Server } from 'node:http';
import { createServer } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on loopback, standing in for the Auth0
 * tenant: discovery, the authorization endpoint with its own login and consent pages (devInteractions:
 * any login name signs in as that user), the token endpoint with client_secret_post, PKCE required.
 * Users named in `roles` get them in the namespaced roles claim of their ID token.
 */
export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startTestIdp(options: {
  redirectUri: string;
  roles: Record<string, string[]>;
  rolesClaim?: string;
}): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const rolesClaim = options.rolesClaim ?? 'https://callerpop/roles';
  const clientId = 'callerpop-agents';
  const clientSecret = 'agents-client-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    // Put the profile and the roles in the ID token, as an Auth0 post-login Action does.
    conformIdTokenClaims: false,
    claims: { openid: ['sub', rolesClaim], profile: ['name'], email: ['email'] },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({
        sub,
        name: sub.replace(/^\w/, (ch) => ch.toUpperCase()),
        email: `${sub}@example.com`,
        [rolesClaim]: options.roles[sub] ?? [],
      }),
    }),
    cookies: { keys: ['test-idp-cookie-key-0123456789'] },
  });
  const server: Server = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    issuer: `${issuer}/`,
    clientId,
    clientSecret,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
