/** The verify-phone feature's public module: what other features may use. */
export { type Confirmation, confirmVerifiedNumber, purgeVerificationData } from './queries.js';
export { verifyRoutes } from './routes.js';
