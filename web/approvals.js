// approvals.js — playbook steps waiting for an analyst (GET /api/v1/approvals?status=pending),
// approved or denied with POST /api/v1/runs/{run}/approve|deny {"step","comment"}; the runs
// below come from GET /api/v1/runs.

import * as api from './api.js';
import {fmtTime, h, mount, notice, table} from './dom.js';

export async function render(root, route, current) {
  const [ap, runs] = await Promise.all([
    api.get('/api/v1/approvals', {status: 'pending'}),
    api.get('/api/v1/runs', {limit: 20}),
  ]);
  if (!current()) return;
  const pending = ap.approvals || [];
  const decide = async (a, verb, comment) => {
    try {
      await api.post(`/api/v1/runs/${encodeURIComponent(a.run)}/${verb}`, {step: a.step, comment});
      notice(`${verb === 'approve' ? 'Approved' : 'Denied'}: ${a.playbook} / ${a.step} (run ${a.run})`);
      await render(root, route, current);
    } catch (e) {
      notice(`${verb} failed: ${e.message}`, 'error');
    }
  };
  const off = api.may('analyst') ? null : true;
  mount(root,
    h('h1', null, 'Approvals'),
    pending.length ? h('ul', {class: 'cards'}, pending.map((a, n) => {
      const cid = `appr-comment-${n}`;
      const comment = h('input', {id: cid, name: 'comment', placeholder: 'why'});
      return h('li', {class: 'card', 'data-run': a.run, 'data-step': a.step},
        h('h2', null, a.message || `${a.playbook}: ${a.step}`),
        h('p', {class: 'muted'}, `playbook ${a.playbook} · step ${a.step} · run ${a.run} · deadline ${fmtTime(a.deadline)} (then ${a.default})`),
        h('label', {for: cid}, 'Comment'), comment,
        h('div', {class: 'actions'},
          h('button', {type: 'button', class: 'primary', disabled: off, 'data-action': 'approve', onclick: () => decide(a, 'approve', comment.value)}, 'Approve'),
          h('button', {type: 'button', class: 'danger', disabled: off, 'data-action': 'deny', onclick: () => decide(a, 'deny', comment.value)}, 'Deny')));
    })) : h('p', {class: 'muted', id: 'no-approvals'}, 'No step is waiting for an approval.'),
    h('section', {class: 'panel', 'aria-labelledby': 'runs-h'},
      h('h2', {id: 'runs-h'}, 'Recent playbook runs'),
      table([
        {label: 'Run', cell: (r) => r.id},
        {label: 'Playbook', cell: (r) => r.playbook},
        {label: 'Source', cell: (r) => r.source},
        {label: 'Status', cell: (r) => h('span', {class: `status st-${r.status}`}, r.status)},
        {label: 'Created', cell: (r) => fmtTime(r.created)},
        {label: 'Ended', cell: (r) => fmtTime(r.ended)},
      ], runs.runs || [])));
  root.dataset.loaded = 'approvals';
}
