import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';

// Placeholder: the webhooks land in the core issue.
export function twilioRoutes(_deps: AppDeps) {
  return new Hono<AppEnv>();
}
