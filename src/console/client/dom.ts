/**
 * The one way the console's scripts make markup: DOM APIs and textContent, never HTML strings, so nothing a
 * caller or an Auth0 profile contains can become markup.
 */

type Attr = string | number | boolean | null | undefined;
export type Child = Node | string | null | undefined | false;

/** `el('p', { className: 'notice', text: 'Hello' }, [child…])`; null/false attributes and children are skipped. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'className') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** A heading of the given level (h1…h6). */
export function heading(
  level: number,
  attrs: Record<string, Attr>,
  children: readonly Child[],
): HTMLHeadingElement {
  const tag = `h${Math.min(6, Math.max(1, level))}` as 'h1';
  return el(tag, attrs, children);
}
