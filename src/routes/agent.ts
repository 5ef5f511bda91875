import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';

// Placeholder: built by its own issue.
export function agentRoutes(_deps: AppDeps) {
  return new Hono<AppEnv>();
}
