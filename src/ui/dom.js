// Tiny DOM builders: the page is small enough that no framework is needed.

const SVG = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG, tag), attrs, children);

export const $ = (selector) => document.querySelector(selector);

/** Status to colour class: the same four groups everywhere on the page. */
export function statusClass(status) {
  if (!status) return 'st-none';
  if (status === 'ACTIVE' || status === 'ONLINE') return 'st-active';
  if (status === 'ERROR' || status === 'DEGRADED') return 'st-error';
  if (status === 'DOWN' || status === 'OFFLINE' || status === 'NO_MONITOR' || status === 'DELETED') return 'st-down';
  return 'st-pending';
}

export const json = (v) => h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
