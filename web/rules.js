// rules.js — Rules (GET /api/v1/rules). Placeholder until the page lands.

import {h, mount} from './dom.js';

export async function render(root) {
  mount(root, h('h1', null, 'Rules'), h('p', {class: 'muted'}, 'Coming next.'));
  root.dataset.loaded = 'rules';
}
