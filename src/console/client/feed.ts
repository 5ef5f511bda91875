import type { InteractionView } from '../../inbound/index.js';
import { type CardContext, renderCard } from './cards.js';

/**
 * The feed of cards: applies each interaction once per version (frames can repeat after a reconnect and a
 * resume), newest on top, at most MAX_CARDS, and announces new ones for screen readers.
 */

const MAX_CARDS = 100;

export interface Rendered {
  id: string;
  sid: string;
  version: number;
  /** The page clock when this version reached the screen (tests and the pop-latency bench read it). */
  t: number;
}

export interface Feed {
  apply(view: InteractionView, version: number, initial?: boolean): void;
  /** The newest version applied: where a resume starts. */
  cursor(): number;
  rendered: Rendered[];
  versions: Map<string, number>;
}

function announcement(v: InteractionView): string {
  const n = v.matches.length;
  const who = `${v.channel === 'voice' ? 'Incoming call from ' : 'Text from '}${v.callerDisplay}: `;
  if (!v.e164) return `${who}number withheld`;
  if (n === 0) return `${who}no matching account`;
  return `${who}${n} matching ${n === 1 ? 'account' : 'accounts'}`;
}

export function createFeed(
  ctx: CardContext & { popId: string | null; startCursor: number },
  feed: HTMLElement,
  announcer: HTMLElement | null,
): Feed {
  const versions = new Map<string, number>();
  const rendered: Rendered[] = [];
  let cursor = ctx.startCursor;

  function apply(v: InteractionView, version: number, initial = false) {
    const known = versions.get(v.id);
    if (known !== undefined && version <= known) return;
    versions.set(v.id, version);
    if (version > cursor) cursor = version;
    if (ctx.mode === 'pop' && v.id !== ctx.popId && v.twilioSid !== ctx.popId) return;
    const existing = feed.querySelector(`[data-interaction-id="${CSS.escape(v.id)}"]`);
    const card = renderCard(ctx, v, ctx.mode === 'pop' ? 1 : 3);
    if (existing) existing.replaceWith(card);
    else {
      document.getElementById('feed-empty')?.remove();
      if (ctx.mode === 'pop') feed.replaceChildren(card);
      else {
        feed.insertBefore(card, feed.firstChild);
        while (feed.children.length > MAX_CARDS) feed.lastElementChild?.remove();
      }
      if (known === undefined && !initial) {
        card.classList.add('new');
        if (announcer) announcer.textContent = announcement(v);
      }
    }
    rendered.push({ id: v.id, sid: v.twilioSid, version, t: performance.now() });
    if (rendered.length > 1000) rendered.splice(0, rendered.length - 1000);
  }

  return { apply, cursor: () => cursor, rendered, versions };
}
