import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeMissing, missingScopes, SCOPE_NEEDS } from './scopes.js';

describe('the scope table', () => {
  it('is the one docs/connect.md shows: every scope, and no other', () => {
    const doc = readFileSync(new URL('../../docs/connect.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Scopes'), doc.indexOf('## `npm run connect -- twilio'));
    const documented = [...section.matchAll(/^\| `([a-z_:]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(SCOPE_NEEDS.map((n) => n.scope)));
  });

  it('names each missing scope once, with everything that needs it', () => {
    const missing = missingScopes(new Set(['read:logs']), ['backfill', 'account actions', 'log catch-up']);
    const readUsers = missing.find((m) => m.scope === 'read:users');
    expect(missing.map((m) => m.scope)).not.toContain('read:logs');
    expect(missing.filter((m) => m.scope === 'read:users')).toHaveLength(1);
    expect(describeMissing(readUsers ?? { scope: '', needs: [] })).toBe(
      'read:users — backfill: export the users (POST /jobs/users-exports); agent sessions: ask a signed-in agent’s roles again every 5 minutes (GET /users/{id}/roles and /permissions); account actions: read the account, its blocks and enrollments',
    );
  });
});
