/** The auth0-feed feature's public module: what other features may use. */
export { type LogCatchUpDeps, logCatchUpRoutes } from './catch-up-routes.js';
export { createLogCatchUp, type LogCatchUp, logDepsOf } from './log-catch-up.js';
export { recordEnrollmentDecision } from './queries.js';
export { auth0Routes } from './routes.js';
