import { describe, expect, it } from 'vitest';
import { type BoundEntry, mergeBindings } from './bindings-merge.js';

/** The merge rules of bindings-merge.ts, one at a time (names stand for actions; ids follow names). */

const bound = (...names: string[]): BoundEntry[] =>
  names.map((name) => ({ name, actionId: `id-${name}`, displayName: name }));
const names = (list: BoundEntry[]) => list.map((b) => b.name);
const LOGIN = 'callerpop-post-login';
const VERIFY = 'callerpop-verify-phone';
const ROLES = 'callerpop-agent-roles';

describe('mergeBindings', () => {
  it('appends callerpop’s block, in callerpop’s order, after the tenant’s own', () => {
    expect(names(mergeBindings(bound('A', 'B'), [ROLES, LOGIN, VERIFY]))).toEqual([
      'A',
      'B',
      LOGIN,
      VERIFY,
      ROLES,
    ]);
  });

  it('keeps the tenant’s own bindings as they are (ids, display names)', () => {
    const current = [{ name: 'A', actionId: 'x1', displayName: 'Shown as A' }];
    expect(mergeBindings(current, [LOGIN])[0]).toEqual(current[0]);
  });

  it('changes nothing when callerpop’s are all bound, in order, wherever they are', () => {
    const current = bound('A', LOGIN, 'B', ROLES, 'C');
    expect(mergeBindings(current, [LOGIN, ROLES])).toEqual(current);
  });

  it('adds a missing one to the block where the block starts', () => {
    expect(names(mergeBindings(bound('A', LOGIN, ROLES, 'B'), [LOGIN, VERIFY, ROLES]))).toEqual([
      'A',
      LOGIN,
      VERIFY,
      ROLES,
      'B',
    ]);
  });

  it('puts callerpop’s back in order when someone swapped them', () => {
    expect(names(mergeBindings(bound(VERIFY, 'A', LOGIN), [LOGIN, VERIFY]))).toEqual([LOGIN, VERIFY, 'A']);
  });

  it('keeps callerpop Actions an earlier run bound, and removes only what it is told to', () => {
    expect(names(mergeBindings(bound('A', LOGIN, VERIFY), [LOGIN]))).toEqual(['A', LOGIN, VERIFY]);
    const phone = bound('A', 'callerpop-send-phone-message');
    expect(names(mergeBindings(phone, [], ['callerpop-send-phone-message']))).toEqual(['A']);
  });

  it('leaves a callerpop Action not yet created without an id (a dry run)', () => {
    expect(mergeBindings([], [LOGIN])).toEqual([{ name: LOGIN, actionId: undefined, displayName: LOGIN }]);
  });
});
