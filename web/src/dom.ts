/**
 * A tiny DOM builder. Text always goes in through `textContent` / text nodes and attributes through
 * `setAttribute`: the pages never parse HTML from strings (the CSP enforces Trusted Types, so an
 * `innerHTML` assignment would throw).
 */
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces every child of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

/** A fresh random nonce for a quote request: 32 bytes, standard base64. */
export function freshNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** Sets a page's big verdict line; "not verified yet" points at the panel where the visitor chooses what to trust. */
export function verdictSetter(verdictEl: HTMLElement): (cls: string, text: string) => void {
  return (cls, text) => {
    verdictEl.className = `verdict big ${cls}`;
    verdictEl.textContent = text;
    if (cls === 'warn') verdictEl.append(' ', h('a', { href: '#trust' }, 'Verify the enclave'));
  };
}
