// api.js — every call of the console goes to the same REST API the CLI uses (docs/api.md):
// the session cookie (HttpOnly, set by POST /api/v1/auth/login) authenticates, and every
// state-changing request carries the CSRF token the login returned, in X-CSRF-Token. The
// token is kept in sessionStorage (per tab); a tab without it logs in again.

const CSRF_KEY = 'vigie.csrf';
const USER_KEY = 'vigie.user';
const TENANT_KEY = 'vigie.tenant';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || 'null');
  } catch {
    return null;
  }
}

export function hasSession() {
  return !!sessionStorage.getItem(CSRF_KEY);
}

function forget() {
  sessionStorage.removeItem(CSRF_KEY);
  sessionStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(TENANT_KEY);
}

// The tenant an admin of tenant "default" works in (docs/api.md: ?tenant= on every call);
// '' = their own. Other principals always work in their own tenant.
export function tenant() {
  const u = currentUser();
  return u && u.role === 'admin' && u.tenant === 'default' ? sessionStorage.getItem(TENANT_KEY) || '' : '';
}
export function setTenant(t) {
  if (t && t !== 'default') sessionStorage.setItem(TENANT_KEY, t);
  else sessionStorage.removeItem(TENANT_KEY);
}

async function parse(res) {
  const text = await res.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const e = body && body.error ? body.error : {};
    throw new ApiError(res.status, e.code, e.message);
  }
  return body;
}

// call('GET', '/api/v1/incidents', {query: {status: 'open'}}) → the parsed JSON body.
export async function call(method, path, opts = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  if (tenant() && !url.pathname.startsWith('/api/v1/auth/')) url.searchParams.set('tenant', tenant());
  const headers = {Accept: 'application/json'};
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = sessionStorage.getItem(CSRF_KEY) || '';
  }
  let body;
  if (opts.text !== undefined) {
    headers['Content-Type'] = opts.type || 'text/plain';
    body = opts.text;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, {method, headers, body, credentials: 'same-origin', cache: 'no-store'});
  try {
    return await parse(res);
  } catch (e) {
    if (e.status === 401 && !opts.noRedirect) {
      forget();
      onUnauthorized();
    }
    throw e;
  }
}

export const get = (path, query) => call('GET', path, {query});
export const post = (path, body) => call('POST', path, {body: body || {}});
export const patch = (path, body) => call('PATCH', path, {body});
// A body sent as is (a feed file, an advisory file): the same session and CSRF token.
export const raw = (method, path, query, text, type) => call(method, path, {query, text, type});

export async function login(user, password) {
  const r = await call('POST', '/api/v1/auth/login', {body: {user, password}, noRedirect: true});
  sessionStorage.setItem(CSRF_KEY, r.csrf_token);
  sessionStorage.setItem(USER_KEY, JSON.stringify({name: r.user, role: r.role, tenant: r.tenant}));
  return r;
}

export async function logout() {
  try {
    await call('POST', '/api/v1/auth/logout', {noRedirect: true});
  } finally {
    forget();
  }
}

// Roles are ordered as on the server; the console only hides what the server would refuse.
const ROLES = ['public', 'ingest', 'read', 'analyst', 'admin'];
export function may(role) {
  const u = currentUser();
  return !!u && ROLES.indexOf(u.role) >= ROLES.indexOf(role);
}
