/** The caller-verification feature's public module: what other features may use. */
export { callerVerificationRoutes } from './routes.js';
