/** The console feature's public module: what other features may use. */

export { agentRoleCheckerFrom, type RoleChecker, type RoleVerdict } from './roles.js';
export { agentRoutes } from './routes.js';
export { readSession, revokeSession } from './session.js';
export {
  type AgentSessionRow,
  listActiveAgentSessions,
  purgeAgentSessions,
} from './session-queries.js';
