import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export async function startTestIdp(options: {
  redirectUri: string;
  roles: Record<string, string[]>;
  rolesClaim?: string;
}): Promise<TestIdp> {
  // The provider needs its issuer URL (with the port) before it serves: the server listens on port 0 first
  // (the kernel picks a free port, no probe-then-reuse race), then hands its requests to the provider.
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handle) handle(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
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
  // Provider is a Koa application: callback() is its request handler (the local typings omit it).
  handle = (provider as unknown as { callback(): typeof handle }).callback();
  return {
    issuer: `${issuer}/`,
    clientId,
    clientSecret,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
