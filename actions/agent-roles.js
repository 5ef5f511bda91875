/**
 * callerpop — agents' roles in the ID token (Auth0 post-login Action, flow "Login").
 *
 * callerpop's agent console signs agents in with OpenID Connect and lets in only those whose ID token names
 * AGENT_REQUIRED_ROLE in the roles claim (AGENT_ROLES_CLAIM, default `https://callerpop/roles`). Auth0 puts
 * no roles in tokens by itself: this Action copies the names of the user's roles into that claim, for logins
 * to callerpop's agents' application only, so no other application of the tenant learns anyone's roles.
 *
 * Auth0's pages (auth0/docs-v2):
 * - main/docs/actions/reference/post-login/post-login-event-object.mdx, "event.authorization" (optional):
 *   `roles`, "the names of a user's assigned roles"; "event.client": `client_id`.
 * - main/docs/actions/reference/post-login/post-login-api-object.mdx, "api.idToken.setCustomClaim(key, value)".
 * - main/docs/customize/actions/explore-triggers/post-login.mdx, "Add user roles to ID and Access tokens".
 * - main/docs/secure/tokens/json-web-tokens/create-custom-claims.mdx: a namespaced claim (a URL) is
 *   recommended, and a claim that collides with a reserved one is dropped without failing the login.
 *
 * Secrets (set by `npm run connect -- auth0`): AGENT_CLIENT_ID (the agents' application) and
 * AGENT_ROLES_CLAIM (callerpop's AGENT_ROLES_CLAIM). No dependencies, no request: it never slows a login.
 */
'use strict';

/** callerpop's default AGENT_ROLES_CLAIM (src/config.ts). */
const DEFAULT_ROLES_CLAIM = 'https://callerpop/roles';

function text(value) {
  return typeof value === 'string' ? value.trim() : '';
}

/** The role names as Auth0 lists them; anything that is not a non-empty string is left out. */
function roleNames(event) {
  const roles = event.authorization?.roles;
  if (!Array.isArray(roles)) return [];
  return roles.filter((role) => typeof role === 'string' && role !== '');
}

exports.onExecutePostLogin = async (event, api) => {
  const secrets = event.secrets || {};
  const agentsClient = text(secrets.AGENT_CLIENT_ID);
  // Without the agents' application configured, no login is an agent's: every token stays as it was.
  if (agentsClient === '' || !event.client || event.client.client_id !== agentsClient) return;
  const claim = text(secrets.AGENT_ROLES_CLAIM) || DEFAULT_ROLES_CLAIM;
  // Always set, even empty: callerpop then refuses a user without roles for that reason, not a missing claim.
  api.idToken.setCustomClaim(claim, roleNames(event));
};
