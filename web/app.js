// app.js — the console's shell: hash routing (#/incidents/3, #/search?q=...), the navigation
// bar, the dark/light theme (kept in localStorage), keyboard shortcuts and the log-out button.
// Pages are modules exporting render(root, route); they fetch the REST API through api.js and
// build their DOM with dom.js. No framework and no build step (docs/console.md).

import * as api from './api.js';
import {h, mount, notice} from './dom.js';
import * as login from './login.js';
import * as overview from './overview.js';
import * as incidents from './incidents.js';
import * as search from './search.js';
import * as cases from './cases.js';
import * as approvals from './approvals.js';
import * as vulns from './vulns.js';
import * as runs from './runs.js';
import * as rules from './rules.js';
import * as fleet from './fleet.js';
import * as intel from './intel.js';
import * as users from './users.js';
import * as live from './live.js';

const PAGES = [
  {path: 'overview', label: 'Overview', key: 'o', mod: overview},
  {path: 'incidents', label: 'Incidents', key: 'i', mod: incidents},
  {path: 'search', label: 'Search', key: 's', mod: search},
  {path: 'cases', label: 'Cases', key: 'c', mod: cases},
  {path: 'approvals', label: 'Approvals', key: 'a', mod: approvals},
  {path: 'runs', label: 'Playbooks', key: 'p', mod: runs},
  {path: 'rules', label: 'Rules', key: 'r', mod: rules},
  {path: 'fleet', label: 'Fleet', key: 'f', mod: fleet},
  {path: 'intel', label: 'Intel', key: 'n', mod: intel},
  {path: 'vulns', label: 'Vulnerabilities', key: 'v', mod: vulns},
  {path: 'users', label: 'Users', key: 'u', mod: users},
];

const SHORTCUTS = [
  ['g then o / i / s / c / a / p / r / f / n / v / u', 'go to Overview, Incidents, Search, Cases, Approvals, Playbooks, Rules, Fleet, Intel, Vulnerabilities, Users'],
  ['j / k', 'next / previous row'],
  ['Enter', 'open the selected row'],
  ['space', 'tick the selected incident for a bulk action'],
  ['/', 'focus the search or filter box'],
  ['a', 'assign the open incident to me'],
  ['x', 'acknowledge the open incident'],
  ['c', 'close the open incident (with the chosen verdict)'],
  ['Escape', 'back to the list'],
  ['t', 'toggle dark / light theme'],
  ['?', 'this help'],
];

// ---------------------------------------------------------------- routing

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return {page: parts[0] || 'overview', id: parts[1], parts, params};
}

// Pages that follow the live stream: re-read quietly when the server says something changed.
const LIVE_PAGES = new Set(['overview', 'incidents']);

let renderSeq = 0;
let flash = {}; // a message for the next page (set before a redirect)

async function route(quiet) {
  const r = parseHash();
  const main = document.getElementById('main');
  const seq = ++renderSeq;
  if (r.page !== 'login' && !api.hasSession()) {
    live.stop();
    sessionStorage.setItem('vigie.after_login', location.hash);
    location.replace('#/login');
    return;
  }
  if (r.page === 'login') live.stop();
  else live.start(onLiveChange);
  if (quiet === true) return rerender(r, main, seq);
  const entry = PAGES.find((p) => p.path === r.page);
  const mod = r.page === 'login' ? login : entry ? entry.mod : null;
  document.body.classList.toggle('logged-out', r.page === 'login');
  updateNav(r.page);
  notice(flash.text, flash.kind);
  flash = {};
  if (!mod) {
    mount(main, h('h1', null, 'Not found'), h('p', null, 'No such page.'));
    return;
  }
  document.title = `${entry ? entry.label : 'Log in'} · Vigie`;
  main.dataset.page = r.page;
  main.removeAttribute('data-loaded');
  mount(main, h('p', {class: 'loading'}, 'Loading…'));
  try {
    await mod.render(main, r, () => seq === renderSeq);
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e instanceof api.ApiError && e.status === 401) return; // redirected to the login page
    const what = e instanceof api.ApiError ? `${e.status} ${e.code || ''}: ${e.message}` : String(e);
    mount(main, h('h1', null, entry ? entry.label : 'Error'), h('p', {class: 'error', role: 'alert'}, what));
  }
}

// Re-render the current page in place (no "Loading…"), keeping the selected row.
async function rerender(r, main, seq) {
  const entry = PAGES.find((p) => p.path === r.page);
  const selected = main.querySelector('tr.selected');
  const id = selected ? selected.dataset.id : null;
  const focused = selected && selected === document.activeElement;
  try {
    await entry.mod.render(main, r, () => seq === renderSeq);
  } catch (e) {
    return; // the next update or navigation tries again
  }
  const again = id ? main.querySelector(`tr[data-nav][data-id="${CSS.escape(id)}"]`) : null;
  if (again) {
    again.classList.add('selected');
    again.setAttribute('aria-selected', 'true');
    if (focused) again.focus();
  }
}

let liveTimer = 0;
function onLiveChange() {
  const r = parseHash();
  if (!LIVE_PAGES.has(r.page) || r.id || liveTimer) return;
  // at most one refresh a second, and never while the user types in the page
  liveTimer = setTimeout(() => {
    liveTimer = 0;
    const a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && document.getElementById('main').contains(a)) return;
    route(true);
  }, 1000);
}

function updateNav(page) {
  const u = api.currentUser();
  document.getElementById('who').textContent = u ? `${u.name} (${u.role}, ${u.tenant})` : '';
  // an admin of tenant default may work in another tenant (the API's ?tenant=)
  const tf = document.getElementById('tenant-form');
  tf.hidden = !(u && u.role === 'admin' && u.tenant === 'default');
  const ti = document.getElementById('tenant');
  if (document.activeElement !== ti) ti.value = api.tenant() || 'default';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------- theme

function applyTheme(t) {
  document.documentElement.dataset.theme = t;
  const b = document.getElementById('theme-toggle');
  if (b) {
    b.setAttribute('aria-pressed', t === 'dark' ? 'true' : 'false');
    b.textContent = t === 'dark' ? 'Light theme' : 'Dark theme';
  }
}

function initialTheme() {
  const saved = localStorage.getItem('vigie.theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function toggleTheme() {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('vigie.theme', t);
  applyTheme(t);
}

// ---------------------------------------------------------------- keyboard

// The rows j/k move through: any table row with data-href (or data-expand) in the page.
function rows() {
  return [...document.querySelectorAll('#main tr[data-nav]')];
}

function select(delta) {
  const all = rows();
  if (!all.length) return;
  let i = all.findIndex((r) => r.classList.contains('selected'));
  i = i < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + delta));
  for (const r of all) {
    r.classList.remove('selected');
    r.setAttribute('aria-selected', 'false');
  }
  all[i].classList.add('selected');
  all[i].setAttribute('aria-selected', 'true');
  all[i].focus();
}

function openSelected() {
  const r = document.querySelector('#main tr[data-nav].selected');
  if (!r) return false;
  r.dispatchEvent(new CustomEvent('open', {bubbles: true}));
  return true;
}

let pendingG = 0;

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (typing) {
    if (e.key === 'Escape') t.blur();
    return;
  }
  if (document.body.classList.contains('logged-out')) return;
  const help = document.getElementById('help');
  if (help.open) return;
  if (Date.now() - pendingG < 1500) {
    pendingG = 0;
    const p = PAGES.find((x) => x.key === e.key);
    if (p) {
      location.hash = `#/${p.path}`;
      e.preventDefault();
    }
    return;
  }
  // a button of the page bound to this key (data-key), e.g. assign / close
  const bound = document.querySelector(`#main [data-key="${CSS.escape(e.key)}"]:not([disabled])`);
  let handled = true;
  if (e.key === 'g') pendingG = Date.now();
  else if (e.key === 'j') select(1);
  else if (e.key === 'k') select(-1);
  else if (e.key === 'Enter') {
    // only when no control has the focus (a focused button or link handles its own Enter)
    handled = (t === document.body || (t instanceof Element && t.matches('tr[data-nav], main'))) && openSelected();
  }
  else if (e.key === '/') {
    const box = document.querySelector('#main input[type="search"]');
    if (box) box.focus();
    else handled = false;
  } else if (e.key === 't') toggleTheme();
  else if (e.key === '?') help.showModal();
  else if (bound) bound.click();
  else if (e.key === 'Escape') {
    const back = document.querySelector('#main [data-back]');
    if (back) back.click();
    else handled = false;
  } else handled = false;
  if (handled) e.preventDefault();
}

// ---------------------------------------------------------------- start

function buildShell() {
  const nav = document.getElementById('nav');
  mount(nav, PAGES.map((p) => h('a', {href: `#/${p.path}`, 'data-page': p.path}, p.label)));
  const help = document.getElementById('help');
  mount(help,
    h('h2', null, 'Keyboard shortcuts'),
    h('dl', {class: 'keys'}, SHORTCUTS.map(([k, v]) => [h('dt', null, h('kbd', null, k)), h('dd', null, v)])),
    h('form', {method: 'dialog'}, h('button', {type: 'submit'}, 'Close')));
  document.getElementById('tenant-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const ti = document.getElementById('tenant');
    if (!ti.checkValidity()) return;
    api.setTenant(ti.value.trim());
    ti.blur();
    live.stop(); // the stream follows the tenant too
    flash = {text: `Working in tenant ${api.tenant() || 'default'}.`};
    route();
  });
  document.getElementById('theme-toggle').addEventListener('click', toggleTheme);
  document.getElementById('help-button').addEventListener('click', () => help.showModal());
  document.getElementById('logout').addEventListener('click', async () => {
    live.stop();
    try {
      await api.logout();
    } catch (e) {
      // the session may already be gone: the local state is cleared either way
    }
    flash = {text: 'Logged out.'};
    location.hash = '#/login';
  });
}

api.setUnauthorizedHandler(() => {
  if (parseHash().page !== 'login') {
    sessionStorage.setItem('vigie.after_login', location.hash);
    flash = {text: 'Your session ended: log in again.', kind: 'warn'};
    location.hash = '#/login';
  }
});

buildShell();
applyTheme(initialTheme());
document.addEventListener('keydown', onKey);
window.addEventListener('hashchange', () => route());
route();
