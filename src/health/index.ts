/** The health feature's public module: what other features may use. */
export { healthRoutes } from './routes.js';
