import { callerpopOrder, isCallerpopAction } from './action-scripts.js';

/**
 * The binding list a trigger should have, from the one it has. PATCH …/bindings replaces the whole list
 * ("replaces all existing bindings. To preserve existing Actions in your Login flow, first retrieve your
 * current bindings … then include those bindings alongside the new one", main/docs/authenticate/
 * enterprise-connections/session-expiry-enterprise-connections.mdx), and the order of the list is the order
 * of execution (OAS patch_bindings). So: read, merge, write; pure, so each rule is tested on its own.
 *
 * - The tenant's own bindings keep their order.
 * - callerpop's form one block in callerpop's order (action-scripts.ts): after the tenant's own when none
 *   is bound yet; where the first of them already is, otherwise (an operator who moved the block keeps it).
 * - Nothing moves when callerpop's are all there and in callerpop's order, wherever they are.
 * - callerpop Actions bound by an earlier run and not named this time stay bound (a flag adds, --undo
 *   removes), except those in `remove` (the other phone script, which must not also run).
 */

export interface BoundEntry {
  /** The action's name: callerpop's are found by it. */
  name: string;
  /** The action's id; undefined for a callerpop Action a dry run has not created. */
  actionId: string | undefined;
  displayName: string;
}

export function mergeBindings(
  current: readonly BoundEntry[],
  ensure: readonly string[],
  remove: readonly string[] = [],
): BoundEntry[] {
  const kept = current.filter((b) => !remove.includes(b.name));
  const ours = (b: BoundEntry) => isCallerpopAction(b.name);
  const present = kept.filter(ours).map((b) => b.name);
  const inOrder = present.every(
    (name, i) => i === 0 || callerpopOrder(present[i - 1] ?? '') <= callerpopOrder(name),
  );
  if (ensure.every((name) => present.includes(name)) && inOrder) return [...kept];
  const blockNames = [...new Set([...present, ...ensure])].sort(
    (a, b) => callerpopOrder(a) - callerpopOrder(b),
  );
  const block = blockNames.map(
    (name) => kept.find((b) => b.name === name) ?? { name, actionId: undefined, displayName: name },
  );
  const first = kept.findIndex(ours);
  const others = kept.filter((b) => !ours(b));
  const at = first === -1 ? others.length : kept.slice(0, first).filter((b) => !ours(b)).length;
  return [...others.slice(0, at), ...block, ...others.slice(at)];
}

export function sameBindings(a: readonly BoundEntry[], b: readonly BoundEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((entry, i) => entry.name === b[i]?.name && entry.actionId === b[i]?.actionId)
  );
}

/** "Rule A, callerpop-post-login, callerpop-verify-phone" */
export function describeBindings(list: readonly BoundEntry[]): string {
  return list.length === 0 ? '(none)' : list.map((b) => b.name).join(' → ');
}
