import type { Management } from 'auth0';
import { isCallerpopAction, type TriggerId } from './action-scripts.js';
import { type Auth0Pass, all, read, write } from './auth0-context.js';
import { type BoundEntry, describeBindings, mergeBindings, sameBindings } from './bindings-merge.js';

/**
 * Binds callerpop's Actions to a trigger without disturbing the tenant's (bindings-merge.ts), and records
 * the list as it was before connect first changed it (state file) so --undo can say what it was.
 *
 * The tenant's bindings are written back by `action_id`, as Auth0's own example does (session-expiry-
 * enterprise-connections.mdx, "Bind the Action to the Login trigger"), with their display names.
 * A trigger whose `binding_policy` is `entity-bound` is not the tenant's to bind ("Tenants cannot manage
 * entity-bound bindings", OAS ActionBindingTypeEnum): then Auth0 binds it, and connect leaves it alone.
 */

export async function readBindings(pass: Auth0Pass, trigger: TriggerId): Promise<BoundEntry[]> {
  const list = await read(`read the ${trigger} bindings`, ['read:actions'], async () =>
    all(await pass.tenant.bindings.list(trigger)),
  );
  return list.map(entryOf).filter((e): e is BoundEntry => e !== undefined);
}

function entryOf(binding: Management.ActionBinding): BoundEntry | undefined {
  const action = binding.action;
  if (!action?.id) return undefined;
  return {
    name: action.name ?? action.id,
    actionId: action.id,
    displayName: binding.display_name ?? action.name ?? '',
  };
}

export async function ensureBindings(
  pass: Auth0Pass,
  trigger: TriggerId,
  policy: Management.ActionTrigger | undefined,
  ensure: string[],
  remove: string[] = [],
): Promise<void> {
  if (policy?.binding_policy === 'entity-bound') {
    pass.report.keep(`${trigger}: bound by Auth0 itself (entity-bound trigger)`);
    return;
  }
  const current = await readBindings(pass, trigger);
  const wanted = mergeBindings(current, ensure, remove).map((entry) =>
    isCallerpopAction(entry.name)
      ? { ...entry, actionId: pass.made.actionIds.get(entry.name) ?? entry.actionId }
      : entry,
  );
  if (sameBindings(current, wanted)) {
    pass.report.keep(`${trigger}: ${describeBindings(current)}`);
    return;
  }
  const removed = current.filter((c) => !wanted.some((w) => w.name === c.name)).map((c) => c.name);
  const text = `${trigger}: ${describeBindings(wanted)}${removed.length > 0 ? ` (unbinds ${removed.join(', ')}: only one phone script may run)` : ''}`;
  await write(
    pass,
    { name: `bind Actions to ${trigger}`, mark: '~', text, scopes: ['update:actions'] },
    async () => {
      if (!(trigger in pass.state.bindingsBefore)) {
        pass.state.bindingsBefore[trigger] = current.map((c) => ({
          actionId: c.actionId ?? '',
          actionName: c.name,
          displayName: c.displayName,
        }));
        pass.saveState();
      }
      return pass.tenant.bindings.updateMany(trigger, {
        bindings: wanted.map((entry) => ({
          ref: { type: 'action_id', value: entry.actionId ?? entry.name },
          display_name: entry.displayName,
        })),
      });
    },
  );
}

/** --undo: the list without callerpop's Actions, the tenant's own in their current order. */
export async function unbindCallerpop(
  pass: Auth0Pass,
  trigger: TriggerId,
  policy?: Management.ActionTrigger,
) {
  if (policy?.binding_policy === 'entity-bound') return;
  const current = await readBindings(pass, trigger);
  const theirs = current.filter((c) => !isCallerpopAction(c.name));
  const recorded = pass.state.bindingsBefore[trigger];
  if (theirs.length === current.length) {
    pass.report.keep(`${trigger}: no callerpop Action bound`);
    return;
  }
  await write(
    pass,
    {
      name: `unbind callerpop from ${trigger}`,
      mark: '-',
      text: `${trigger}: ${describeBindings(theirs)}`,
      scopes: ['update:actions'],
    },
    () =>
      pass.tenant.bindings.updateMany(trigger, {
        bindings: theirs.map((entry) => ({
          ref: { type: 'action_id', value: entry.actionId ?? '' },
          display_name: entry.displayName,
        })),
      }),
  );
  const before = recorded?.map((r) => r.actionName);
  if (before && before.join() !== theirs.map((t) => t.name).join())
    pass.report.warn(
      `${trigger} before connect was ${before.join(' → ') || '(none)'}; the tenant's own Actions are left as they are now`,
    );
}
