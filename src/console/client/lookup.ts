import type { Match } from '../../phone-index/index.js';
import { type CardContext, policyNotice, renderMatches } from './cards.js';
import { el } from './dom.js';

/** The manual lookup form: GET /api/lookup with the agent's session, results rendered like a card's matches. */

/** What GET /api/lookup answers (docs/api.md). */
interface LookupAnswer {
  e164: string | null;
  display?: string;
  message?: string;
  matches: Match[];
  sharedLine: boolean;
  policyWarning?: boolean;
  error?: { message: string };
}

export function wireLookup(ctx: CardContext): void {
  const form = document.getElementById('lookup-form');
  const results = document.getElementById('lookup-results');
  if (!(form instanceof HTMLFormElement) || !results) return;
  const field = (name: string) => {
    const input = form.elements.namedItem(name);
    return input instanceof HTMLInputElement ? input.value : '';
  };
  const show = (...nodes: Node[]) => {
    results.removeAttribute('aria-busy');
    results.append(...nodes);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    results.textContent = '';
    results.setAttribute('aria-busy', 'true');
    const query = new URLSearchParams({ phone: field('phone') });
    const region = field('region');
    if (region) query.set('region', region);
    let ok: boolean;
    let body: LookupAnswer;
    try {
      const res = await fetch(`/api/lookup?${query}`, {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
      });
      ok = res.ok;
      body = (await res.json()) as LookupAnswer;
    } catch {
      show(
        el('p', { className: 'notice bad', role: 'alert', text: 'Lookup failed: check your connection.' }),
      );
      return;
    }
    if (!ok) {
      show(el('p', { className: 'notice bad', role: 'alert', text: body.error?.message ?? 'Lookup failed' }));
      return;
    }
    if (!body.e164) {
      show(
        el('p', {
          className: 'notice warn',
          role: 'status',
          text: body.message ?? 'That is not a phone number we can look up.',
        }),
      );
      return;
    }
    const nodes: Node[] = [el('h3', { className: 'lookup-number', text: body.display ?? body.e164 })];
    if (body.policyWarning) nodes.push(policyNotice());
    show(...nodes, ...renderMatches(ctx, body.matches, body.sharedLine));
  });
}
