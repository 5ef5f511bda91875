/** The auth0-api feature's public module: what other features may use. */
export { createLogReader, type LogReader } from './logs.js';
export {
  createManagementApi,
  describeManagementError,
  httpStatusOf,
  type ManagementApi,
  type ManagementSettings,
  managementApiFrom,
} from './management.js';
export { ManagementRateLimiter } from './rate-limiter.js';
export {
  AUTH0_PLANS,
  type Auth0Plan,
  type BucketLimit,
  bucketsFor,
  DEFAULT_AUTH0_PLAN,
  describeLimit,
  estimateDurationMs,
} from './rate-limits.js';
