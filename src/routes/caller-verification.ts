import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';

// Placeholder: the IVR caller-verification steps (/twilio/voice/verify/*) are built by the console issue.
// Mounted behind the Twilio signature middleware, so every request here is already verified.
export function callerVerificationRoutes(_deps: AppDeps) {
  return new Hono<AppEnv>();
}
