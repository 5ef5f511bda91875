import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';

// Placeholder: built by its own issue.
export function auth0Routes(_deps: AppDeps) {
  return new Hono<AppEnv>();
}
