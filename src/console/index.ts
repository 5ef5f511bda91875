/** The console feature's public module: what other features may use. */
export { agentRoutes } from './routes.js';
export { readSession } from './session.js';
