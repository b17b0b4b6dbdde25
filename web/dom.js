// dom.js — building the page with DOM APIs only. Every piece of data goes in as text
// (textContent, attribute values): the console never parses strings as HTML, so an event
// field holding markup is shown, not run. The CSP forbids inline scripts and styles anyway.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else if (k instanceof Node) el.appendChild(k);
    else el.appendChild(document.createTextNode(String(k)));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  return el;
}

// h('a', {href: '#/x', class: 'btn'}, 'text', child, [more]) → an element.
export function h(tag, attrs, ...kids) {
  return append(setAttrs(document.createElement(tag), attrs), kids);
}

// The same for SVG elements (the overview's chart).
export function svg(tag, attrs, ...kids) {
  return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), kids);
}

// Replace the children of el.
export function mount(el, ...kids) {
  el.replaceChildren();
  return append(el, kids);
}

// "2026-11-20T09:25:30.000000Z" → "2026-11-20 09:25:30" (UTC, as the API stores it).
export function fmtTime(ts) {
  if (!ts) return '';
  return String(ts).replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

// How long ago, for an age column.
export function age(ts) {
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

const LEVELS = ['informational', 'informational', 'low', 'medium', 'high', 'critical'];

// A severity badge from a name ("high") or a level number (0-5).
export function sevBadge(sev) {
  const name = typeof sev === 'number' ? LEVELS[sev] || String(sev) : String(sev || 'unknown');
  return h('span', {class: `sev sev-${name}`}, name);
}

// A table: columns [{label, cell: row → node|string, class}], rows, optional row attributes.
export function table(columns, rows, rowAttrs) {
  return h('table', {class: 'grid'},
    h('thead', null, h('tr', null, columns.map((c) => h('th', {scope: 'col', class: c.class}, c.label)))),
    h('tbody', null, rows.map((r, i) => h('tr', rowAttrs ? rowAttrs(r, i) : null,
      columns.map((c) => h('td', {class: c.class}, c.cell(r))))))
  );
}

// A message in the page's status area (role=status: screen readers announce it).
export function notice(text, kind) {
  const el = document.getElementById('notice');
  if (!el) return;
  el.className = kind ? `notice ${kind}` : 'notice';
  el.textContent = text || '';
}
