import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';

// Placeholder: the lookup API lands in the core issue.
export function apiRoutes(_deps: AppDeps) {
  return new Hono<AppEnv>();
}
