// login.js — the log-in form: POST /api/v1/auth/login (JSON), which sets the HttpOnly session
// cookie and returns the CSRF token kept by api.js.

import * as api from './api.js';
import {h, mount} from './dom.js';

export async function render(root) {
  const user = h('input', {id: 'login-user', name: 'username', autocomplete: 'username', required: true});
  const pass = h('input', {id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const err = h('p', {class: 'error', role: 'alert', id: 'login-error'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Log in');
  const form = h('form', {class: 'login', 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title'}, 'Vigie'),
    h('p', {class: 'muted'}, 'Log in to the security console.'),
    h('label', {for: 'login-user'}, 'User'), user,
    h('label', {for: 'login-password'}, 'Password'), pass,
    button, err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    button.disabled = true;
    try {
      await api.login(user.value, pass.value);
      pass.value = '';
      const next = sessionStorage.getItem('vigie.after_login');
      sessionStorage.removeItem('vigie.after_login');
      location.hash = next && !next.startsWith('#/login') ? next : '#/overview';
    } catch (ex) {
      err.textContent = ex.status === 429 ? 'Too many failed attempts: wait and try again.'
        : ex.status === 401 ? 'Invalid user or password.' : `Log in failed: ${ex.message}`;
    } finally {
      button.disabled = false;
    }
  });
  mount(root, form);
  root.dataset.loaded = 'login';
  user.focus();
}
