// users.js — users and API tokens of the admin's tenant (docs/api.md, "Users and tokens"):
// the users (GET /api/v1/users) with their role changed, password reset or deletion
// (PATCH / DELETE /api/v1/users/{name}), a new user (POST /api/v1/users); the active tokens
// (GET /api/v1/tokens), a new one whose secret is shown once (POST /api/v1/tokens), and a
// revocation (DELETE /api/v1/tokens/{name}). Every route needs the admin role: other users
// see the page read-only with a notice, and the server refuses them anyway.

import * as api from './api.js';
import {fmtTime, h, mount, table} from './dom.js';

const ROLES = ['read', 'analyst', 'admin', 'ingest'];
const TTLS = [['', 'never'], ['30d', '30 days'], ['90d', '90 days'], ['365d', '1 year']];
let flashMsg = null; // {text, kind} shown once after the page re-reads the lists
let newToken = null; // the secret of the token just created: shown once, then forgotten

const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

function roleSelect(id, value, disabled) {
  return h('select', {id, name: 'role', disabled}, ROLES.map((r) => h('option', {value: r, selected: r === value}, r)));
}

// Run a change, then re-read the page with a message (or show the error in place).
async function change(msg, fn, done) {
  try {
    await fn();
    flashMsg = {text: done, kind: 'done'};
    reload();
  } catch (err) {
    msg.className = 'error';
    msg.dataset.state = 'error';
    mount(msg, err.message);
  }
}

function userTable(users, q, msg, admin) {
  const me = api.currentUser()?.name;
  const path = (u) => `/api/v1/users/${encodeURIComponent(u.name)}`;
  return table([
    {label: 'User', cell: (u) => h('code', null, u.name)},
    {label: 'Role', cell: (u) => {
      const sel = roleSelect(`role-${u.name}`, u.role, !admin || u.name === me);
      sel.setAttribute('aria-label', `role of ${u.name}`);
      sel.addEventListener('change', () => change(msg,
        () => api.call('PATCH', path(u), {query: q, body: {role: sel.value}}), `${u.name} is now ${sel.value}.`));
      return sel;
    }},
    {label: 'Tenant', cell: (u) => u.tenant},
    {label: 'Created', cell: (u) => fmtTime(u.created)},
    {label: 'Password changed', cell: (u) => fmtTime(u.password_changed)},
    {label: 'Reset password', cell: (u) => {
      const pw = h('input', {type: 'password', name: 'password', autocomplete: 'new-password', minlength: 12, size: 16,
        'aria-label': `new password for ${u.name}`, disabled: !admin});
      const f = h('form', {class: 'inline', 'aria-label': `reset the password of ${u.name}`}, pw,
        h('button', {type: 'submit', disabled: !admin}, 'Set'));
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        change(msg, () => api.call('PATCH', path(u), {query: q, body: {password: pw.value}}), `The password of ${u.name} was changed.`);
      });
      return f;
    }},
    {label: '', cell: (u) => {
      const b = h('button', {type: 'button', class: 'danger', disabled: !admin || u.name === me,
        title: u.name === me ? 'you cannot delete yourself' : `delete ${u.name}`}, 'Delete');
      b.addEventListener('click', () => {
        if (!window.confirm(`Delete the user ${u.name}? Their sessions end at once.`)) return;
        change(msg, () => api.call('DELETE', path(u), {query: q}), `${u.name} was deleted.`);
      });
      return b;
    }},
  ], users, (u) => ({'data-name': u.name}));
}

function addUserForm(q, msg, admin) {
  const user = h('input', {id: 'user-name', name: 'user', required: true, pattern: '[A-Za-z0-9._@\\-]{1,64}', autocomplete: 'off', disabled: !admin});
  const pw = h('input', {id: 'user-password', type: 'password', name: 'password', required: true, minlength: 12, autocomplete: 'new-password', disabled: !admin});
  const role = roleSelect('user-role', 'analyst', !admin);
  const f = h('form', {class: 'filters', 'aria-label': 'Add a user'},
    h('label', {for: 'user-name'}, 'User'), user,
    h('label', {for: 'user-password'}, 'Password'), pw,
    h('label', {for: 'user-role'}, 'Role'), role,
    h('button', {type: 'submit', class: 'primary', disabled: !admin}, 'Add user'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    change(msg, () => api.call('POST', '/api/v1/users', {query: q, body: {user: user.value, password: pw.value, role: role.value}}),
      `${user.value} was added.`);
  });
  return f;
}

function tokenTable(tokens, q, msg, admin) {
  return table([
    {label: 'Token', cell: (t) => h('code', null, t.name)},
    {label: 'Role', cell: (t) => t.role},
    {label: 'Tenant', cell: (t) => t.tenant},
    {label: 'Created', cell: (t) => fmtTime(t.created)},
    {label: 'Expires', cell: (t) => (t.expires ? fmtTime(t.expires) : 'never')},
    {label: 'Last used', cell: (t) => (t.last_used ? fmtTime(t.last_used) : 'never')},
    {label: '', cell: (t) => {
      const b = h('button', {type: 'button', class: 'danger', disabled: !admin, title: `revoke ${t.name}`}, 'Revoke');
      b.addEventListener('click', () => {
        if (!window.confirm(`Revoke the token ${t.name}? Clients using it are refused at once.`)) return;
        change(msg, () => api.call('DELETE', `/api/v1/tokens/${encodeURIComponent(t.name)}`, {query: q}), `${t.name} was revoked.`);
      });
      return b;
    }},
  ], tokens, (t) => ({'data-name': t.name}));
}

function addTokenForm(q, msg, admin) {
  const name = h('input', {id: 'token-name', name: 'name', required: true, pattern: '[A-Za-z0-9._@\\-]{1,64}', autocomplete: 'off', disabled: !admin});
  const role = roleSelect('token-role', 'ingest', !admin);
  const ttl = h('select', {id: 'token-ttl', name: 'ttl', disabled: !admin}, TTLS.map(([v, l]) => h('option', {value: v}, l)));
  const f = h('form', {class: 'filters', 'aria-label': 'Create a token'},
    h('label', {for: 'token-name'}, 'Name'), name,
    h('label', {for: 'token-role'}, 'Role'), role,
    h('label', {for: 'token-ttl'}, 'Expires'), ttl,
    h('button', {type: 'submit', class: 'primary', disabled: !admin}, 'Create token'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {name: name.value, role: role.value};
    if (ttl.value) body.ttl = ttl.value;
    change(msg, async () => {
      const r = await api.call('POST', '/api/v1/tokens', {query: q, body});
      newToken = {name: r.name, secret: r.token};
    }, `The token ${name.value} was created.`);
  });
  return f;
}

// The new token's secret, once: a copyable <code> and a warning.
function secretBox() {
  if (!newToken) return null;
  const {name, secret} = newToken;
  newToken = null;
  const code = h('code', {id: 'token-secret'}, secret);
  const copy = h('button', {type: 'button'}, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copy.textContent = 'Copied';
    } catch {
      window.getSelection().selectAllChildren(code);
    }
  });
  return h('div', {class: 'token-secret', role: 'alert'},
    h('p', {class: 'warn'}, `The secret of ${name}: copy it now, it is not shown again (only a hash of it is stored).`),
    h('p', null, code, ' ', copy),
    h('p', {class: 'muted'}, 'Send it as "Authorization: Bearer <token>".'));
}

export async function render(root, route, current) {
  const admin = api.may('admin');
  const tenant = route.params.get('tenant') || '';
  const q = tenant ? {tenant} : {};
  let users = [];
  let tokens = [];
  if (admin) {
    [{users}, {tokens}] = await Promise.all([api.get('/api/v1/users', q), api.get('/api/v1/tokens', q)]);
  }
  if (!current()) return;
  const msg = h('p', {id: 'users-msg', 'aria-live': 'polite'});
  if (flashMsg) {
    msg.className = flashMsg.kind === 'done' ? 'muted' : 'error';
    msg.dataset.state = flashMsg.kind;
    mount(msg, flashMsg.text);
    flashMsg = null;
  }
  const who = api.currentUser();
  mount(root,
    h('h1', null, 'Users & tokens'),
    admin
      ? h('p', {class: 'muted'}, `Principals of tenant ${tenant || who?.tenant || 'default'}.`)
      : h('p', {id: 'users-readonly', class: 'notice warn', role: 'status'},
        'This page needs the admin role: it is shown read-only.'),
    msg,
    h('section', {class: 'panel', 'aria-labelledby': 'users-h'},
      h('h2', {id: 'users-h'}, `Users (${users.length})`),
      userTable(users, q, msg, admin),
      addUserForm(q, msg, admin)),
    h('section', {class: 'panel', 'aria-labelledby': 'tokens-h'},
      h('h2', {id: 'tokens-h'}, `API tokens (${tokens.length})`),
      secretBox(),
      tokenTable(tokens, q, msg, admin),
      addTokenForm(q, msg, admin)));
  root.dataset.loaded = 'users';
}
