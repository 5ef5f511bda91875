/** The admin-api feature's public module: what other features may use. */
export { type ApiEnv, apiAuth, apiPrincipal } from './auth.js';
export { apiRoutes } from './routes.js';
