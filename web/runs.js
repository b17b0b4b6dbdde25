// runs.js — Playbooks and runs (GET /api/v1/playbooks, /api/v1/runs). Placeholder until the page lands.

import {h, mount} from './dom.js';

export async function render(root) {
  mount(root, h('h1', null, 'Playbooks and runs'), h('p', {class: 'muted'}, 'Coming next.'));
  root.dataset.loaded = 'runs';
}
