import type { InteractionView } from '../../inbound/index.js';
import type { Match } from '../../phone-index/index.js';
import { el, heading } from './dom.js';
import {
  formatAgo,
  formatE164,
  formatTime,
  possessionWords,
  SOURCE_WORDS,
  STATUS_WORDS,
  stirWords,
} from './words.js';

/** Turns an interaction's JSON (the same InteractionView the server sends) into a card. */

export interface CardContext {
  mode: 'console' | 'pop';
  /** Auth0 dashboard users URL ending in `/users/`, or null. */
  dashboardBase: string | null;
}

/**
 * The form of the dashboard's own links to a user: standard base64 of the URL-encoded user id, `=` padding
 * removed, percent-encoded for the path. Confirmed from dashboard URLs published beside their user ids in
 * public repositories: users/YXV0aDAlN0M2MWVjNTJlOGEzY2YyNTAwNjhiOGNlZmU is auth0|61ec52e8a3cf250068b8cefe.
 * (Auth0's docs show no per-user dashboard URL; encodeURIComponent makes the id ASCII, so btoa takes it.)
 */
export function dashboardUserPath(userId: string): string {
  return encodeURIComponent(btoa(encodeURIComponent(userId)).replace(/=+$/, ''));
}

function dashboardLink(ctx: CardContext, userId: string) {
  if (!ctx.dashboardBase) return null;
  return el('a', {
    href: ctx.dashboardBase + dashboardUserPath(userId),
    target: '_blank',
    rel: 'noopener noreferrer',
    className: 'dash',
    text: 'Open in Auth0',
  });
}

function renderMatch(ctx: CardContext, m: Match): HTMLLIElement {
  const badges = [
    el('span', {
      className: `badge ${m.verified ? 'good' : 'warn'}`,
      text: m.verified ? 'Verified' : 'Unverified',
    }),
  ];
  if (m.blocked) badges.push(el('span', { className: 'badge bad', text: 'Blocked' }));
  const sources = m.sources.map((s) => SOURCE_WORDS[s] ?? s).join(', ');
  const lastLogin = m.lastLoginAt
    ? el('time', { datetime: new Date(m.lastLoginAt).toISOString(), text: formatAgo(m.lastLoginAt) })
    : 'never';
  return el('li', { className: `match${m.blocked ? ' blocked' : ''}`, 'data-user-id': m.userId }, [
    el('div', { className: 'match-head' }, [
      el('span', { className: 'rank', title: m.evidence || null, text: `#${m.rank}` }),
      el('strong', { className: 'name', text: m.name || m.email || m.userId }),
      el('span', { className: 'badges' }, badges),
    ]),
    el('dl', { className: 'facts' }, [
      el('dt', { text: 'Email' }),
      el('dd', { text: m.email || 'none on file' }),
      el('dt', { text: 'User id' }),
      el('dd', {}, [el('code', { text: m.userId })]),
      el('dt', { text: 'Connection' }),
      el('dd', { text: m.connection || 'unknown' }),
      el('dt', { text: 'Number from' }),
      el('dd', { text: sources }),
      el('dt', { text: 'Last login' }),
      el('dd', {}, [lastLogin]),
    ]),
    dashboardLink(ctx, m.userId),
  ]);
}

/**
 * The same words on a card and in the manual lookup: ENROLLMENT_POLICY=warn let an account enroll this number
 * for MFA although another person already signed in with it.
 */
export function policyNotice(): HTMLParagraphElement {
  return el('p', {
    className: 'notice warn policy',
    role: 'note',
    text: 'Enrollment policy warning: this number was enrolled for MFA although another account already signs in with it. Ask who is calling before you act.',
  });
}

export function renderMatches(
  ctx: CardContext,
  matches: readonly Match[],
  sharedLine: boolean,
): HTMLElement[] {
  if (matches.length === 0)
    return [el('p', { className: 'notice neutral no-match', text: 'No account uses this number.' })];
  const nodes: HTMLElement[] = [];
  if (sharedLine || matches.length > 1)
    nodes.push(
      el('p', {
        className: 'notice warn shared',
        role: 'note',
        text: `Shared line: ${matches.length} accounts use this number. Ask who is calling before you act.`,
      }),
    );
  nodes.push(
    el(
      'ol',
      {
        className: 'matches',
        'aria-label': `${matches.length} matching ${matches.length === 1 ? 'account' : 'accounts'}`,
      },
      matches.map((m) => renderMatch(ctx, m)),
    ),
  );
  return nodes;
}

export function renderCard(ctx: CardContext, v: InteractionView, headingLevel: number): HTMLElement {
  const isVoice = v.channel === 'voice';
  const withheld = !v.e164;
  const stir = stirWords(v.stirVerstat);
  const possession = possessionWords(v.callerVerification, v.flags.verificationSkipped);
  const notices: HTMLElement[] = [];
  if (withheld)
    notices.push(
      el('p', {
        className: 'notice warn withheld',
        text:
          v.callerDisplay === 'Number withheld'
            ? 'The caller withheld their number: nothing to match. Verify identity another way.'
            : `The caller is not a phone number (${v.fromReason ?? 'unknown'}): nothing to match.`,
      }),
    );
  if (v.flags.lookupFailed)
    notices.push(
      el('p', {
        className: 'notice bad',
        text: 'The lookup failed or timed out: the caller was routed without a match. Use the manual lookup.',
      }),
    );
  if (v.flags.policyWarning || v.policyWarning) notices.push(policyNotice());
  const title = heading(headingLevel, { className: 'caller' }, [
    el('span', { className: 'channel', text: isVoice ? 'Call' : 'Text' }),
    ' from ',
    el('span', { className: `number${withheld ? ' is-withheld' : ''}`, text: v.callerDisplay }),
  ]);
  const trust = isVoice
    ? el('ul', { className: 'trust', 'aria-label': 'How much to trust the caller ID' }, [
        el('li', { className: `badge ${stir.tone}`, text: stir.text }),
        el('li', { className: `badge ${possession.tone} possession`, text: possession.text }),
      ])
    : null;
  const meta = el('p', { className: 'meta' }, [
    el('span', {
      className: `status status-${v.status.replace(/[^a-z-]/g, '')}`,
      text: STATUS_WORDS[v.status] ?? v.status,
    }),
    ' · ',
    el('time', { datetime: new Date(v.createdAt).toISOString(), text: formatTime(v.createdAt) }),
    v.to ? ` · to ${formatE164(v.to)}` : '',
  ]);
  const children: (HTMLElement | null)[] = [title, meta, trust, ...notices];
  if (!withheld) children.push(...renderMatches(ctx, v.matches, v.sharedLine));
  if (ctx.mode === 'console')
    children.push(
      el('a', {
        className: 'pop-link',
        href: `/agent/pop/${encodeURIComponent(v.id)}`,
        text: 'Open screen pop',
      }),
    );
  return el(
    'article',
    {
      className: `card ${isVoice ? 'voice' : 'sms'}${withheld ? ' withheld' : ''}`,
      'data-interaction-id': v.id,
      'data-twilio-sid': v.twilioSid,
      'data-version': v.updatedAt,
      'aria-label': `${isVoice ? 'Call' : 'Text'} from ${v.callerDisplay}`,
    },
    children,
  );
}
