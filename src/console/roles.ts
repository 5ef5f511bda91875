import { PermissionsClient } from 'auth0/users/permissions';
import { RolesClient } from 'auth0/users/roles';
import { describeManagementError, httpStatusOf, type ManagementApi } from '../auth0-api/index.js';
import type { Config } from '../config.js';
import { agentAuthMode } from '../config.js';

/**
 * An agent's roles, asked of the Management API of the tenant agents sign in with: `GET
 * /api/v2/users/{id}/roles` (role names) and, when the required one is not among them, `GET
 * /api/v2/users/{id}/permissions` (permission names), since AGENT_REQUIRED_ROLE may name either, as at sign-in
 * (auth0/docs-v2 main/docs/oas/management/v2/management-api-oas.json, get_user_roles and get_permissions;
 * scope `read:users`).
 */

export interface RoleVerdict {
  /** The role or permission AGENT_REQUIRED_ROLE names is still held. */
  allowed: boolean;
  /** AGENT_ADMIN_ROLE is held. */
  admin: boolean;
  /** What was found, for the session record. */
  held: string[];
}

export type RoleChecker = (auth0UserId: string) => Promise<RoleVerdict>;

const PAGE = 100;
/** More than this many roles or permissions is not an agent's profile; stop reading there. */
const MAX_PAGES = 5;

export function createRoleChecker(
  api: ManagementApi,
  roles: { required: string; admin?: string },
): RoleChecker {
  const rolesClient = new RolesClient(api.clientOptions);
  const permissionsClient = new PermissionsClient(api.clientOptions);
  return async (userId) => {
    const held = new Set<string>();
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await rolesClient.list(userId, { per_page: PAGE, page, include_totals: true });
        for (const role of result.data) if (role.name) held.add(role.name);
        if (result.data.length < PAGE) break;
      }
      const needsPermissions =
        !held.has(roles.required) || (roles.admin !== undefined && !held.has(roles.admin));
      if (needsPermissions) {
        for (let page = 0; page < MAX_PAGES; page++) {
          const result = await permissionsClient.list(userId, { per_page: PAGE, page, include_totals: true });
          for (const p of result.data) if (p.permission_name) held.add(p.permission_name);
          if (result.data.length < PAGE) break;
        }
      }
    } catch (err) {
      // The user is gone from the tenant: nothing is held any more.
      if (httpStatusOf(err) === 404) return { allowed: false, admin: false, held: [] };
      throw new Error(`agent roles could not be read: ${describeManagementError(err)}`);
    }
    return {
      allowed: held.has(roles.required),
      admin: roles.admin !== undefined && held.has(roles.admin),
      held: [...held].sort(),
    };
  };
}

/**
 * The checker for this deployment, or undefined where roles cannot be asked again: agents sign in with a token
 * link, or with another identity provider than the Auth0 tenant whose Management API callerpop holds.
 */
export function agentRoleCheckerFrom(
  config: Config,
  api: ManagementApi | undefined,
): RoleChecker | undefined {
  if (!api || agentAuthMode(config) !== 'oidc' || !config.AGENT_REQUIRED_ROLE) return undefined;
  if (config.OIDC_ISSUER !== undefined) {
    const issuerHost = new URL(config.OIDC_ISSUER).host.toLowerCase();
    if (issuerHost !== api.domain.toLowerCase()) return undefined;
  }
  return createRoleChecker(api, { required: config.AGENT_REQUIRED_ROLE, admin: config.AGENT_ADMIN_ROLE });
}
