// fleet.js — Fleet (GET /api/v1/agents). Placeholder until the page lands.

import {h, mount} from './dom.js';

export async function render(root) {
  mount(root, h('h1', null, 'Fleet'), h('p', {class: 'muted'}, 'Coming next.'));
  root.dataset.loaded = 'fleet';
}
