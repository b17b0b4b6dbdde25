// runs.js — Playbooks and runs. The list (#/runs, optionally #/runs?playbook=ID) shows the
// playbooks (GET /api/v1/playbooks), the runs newest first (GET /api/v1/runs) with the ones
// waiting for an approval highlighted (GET /api/v1/approvals?status=pending), and a form that
// runs a playbook by hand on an alert typed as JSON (POST /api/v1/playbooks/{id}/run
// {"alert":{...}}). A run's detail (#/runs/ID, GET /api/v1/runs/{id}) shows each step with
// its status, input and output, the approvals and who decided them, and the actions of
// POST /api/v1/runs/{id}/approve|deny {"step","comment"} and /cancel. j/k move, Enter opens.

import * as api from './api.js';
import {age, fmtTime, h, mount, notice, table} from './dom.js';

const ENDED = new Set(['succeeded', 'failed', 'timed_out', 'denied', 'cancelled']);
const SAMPLE = '{\n  "host": {"name": "WS-FIN-07"},\n  "rule": {"name": "Malware dropper executed"},\n  "level": "high"\n}';

const status = (s) => h('span', {class: `status st-${s}`}, s || '—');

// A JSON value as indented text (a string stays as it is).
function pretty(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2);
}

function triggerText(t) {
  return Object.entries(t).map(([k, v]) => (k === 'on' ? String(v) : `${k} ${v}`)).join(' · ');
}

export async function render(root, route, current) {
  if (route.id) return renderDetail(root, route, current);
  const only = route.params.get('playbook') || '';
  const [pb, runs, ap] = await Promise.all([
    api.get('/api/v1/playbooks'),
    api.get('/api/v1/runs', {limit: 100, playbook: only}),
    api.get('/api/v1/approvals', {status: 'pending'}),
  ]);
  if (!current()) return;
  const playbooks = pb.playbooks || [];
  const pending = new Map();
  for (const a of ap.approvals || []) pending.set(a.run, (pending.get(a.run) || 0) + 1);
  const list = runs.runs || [];
  const canRun = api.may('analyst');
  const why = canRun ? null : 'needs the analyst role';

  // the run form: a playbook, an alert as JSON
  const sel = h('select', {id: 'run-playbook', name: 'playbook'},
    playbooks.filter((p) => p.enabled).map((p) => h('option', {value: p.id}, `${p.name} (${p.id})`)));
  const text = h('textarea', {id: 'run-alert', name: 'alert', rows: 7, cols: 60, spellcheck: 'false',
    'aria-describedby': 'run-error run-help', disabled: canRun ? null : true}, SAMPLE);
  const err = h('p', {id: 'run-error', class: 'error', role: 'alert'});
  const submit = h('button', {type: 'submit', class: 'primary', disabled: canRun && playbooks.some((p) => p.enabled) ? null : true, title: why}, 'Run');
  const form = h('form', {class: 'runform', 'aria-labelledby': 'run-h'},
    h('h2', {id: 'run-h'}, 'Run a playbook'),
    h('label', {for: 'run-playbook'}, 'Playbook'), sel,
    h('label', {for: 'run-alert'}, 'Alert (JSON object)'), text,
    h('p', {id: 'run-help', class: 'hint'}, 'Sent as {"alert": …}: the fields the playbook\'s templates read (alert.host.name, alert.source.ip …).'),
    err,
    h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    let alert;
    try {
      alert = JSON.parse(text.value);
    } catch (x) {
      err.textContent = `The alert is not valid JSON: ${x.message}`;
      text.focus();
      return;
    }
    if (!alert || typeof alert !== 'object' || Array.isArray(alert)) {
      err.textContent = 'The alert must be a JSON object ({ … }).';
      text.focus();
      return;
    }
    submit.disabled = true;
    try {
      const r = await api.post(`/api/v1/playbooks/${encodeURIComponent(sel.value)}/run`, {alert});
      location.hash = `#/runs/${encodeURIComponent(r.run)}`;
    } catch (x) {
      submit.disabled = false;
      err.textContent = x instanceof api.ApiError ? `${x.status} ${x.code || ''}: ${x.message}` : String(x);
    }
  });
  const runOn = (p) => {
    sel.value = p.id;
    text.focus();
    form.scrollIntoView({block: 'nearest'});
  };

  const waiting = list.filter((r) => pending.has(r.id));
  mount(root,
    h('h1', null, 'Playbooks and runs'),
    waiting.length ? h('p', {class: 'pending-note', id: 'runs-pending'},
      `${waiting.length} run${waiting.length > 1 ? 's' : ''} waiting for an approval: `,
      h('a', {href: '#/approvals'}, 'decide in Approvals')) : null,
    h('section', {class: 'panel', 'aria-labelledby': 'pb-h'},
      h('h2', {id: 'pb-h'}, `Playbooks (${playbooks.length})`),
      table([
        {label: 'Playbook', cell: (p) => h('a', {href: `#/runs?playbook=${encodeURIComponent(p.id)}`, title: 'its runs'}, p.name || p.id)},
        {label: 'Id', cell: (p) => h('code', null, p.id)},
        {label: 'Enabled', cell: (p) => (p.enabled ? 'yes' : 'no')},
        {label: 'Triggers', cell: (p) => (p.triggers || []).map((t) => h('span', {class: 'trigger'}, triggerText(t)))},
        {label: 'Steps', class: 'num', cell: (p) => String(p.steps)},
        {label: 'Version', class: 'num', cell: (p) => String(p.version)},
        {label: '', cell: (p) => h('button', {type: 'button', 'data-action': 'run', 'data-playbook': p.id,
          disabled: canRun && p.enabled ? null : true, title: !canRun ? why : p.enabled ? `run ${p.id} on an alert` : 'disabled playbook',
          onclick: () => runOn(p)}, 'Run…')},
      ], playbooks, (p) => ({class: 'pb-row', 'data-id': p.id})),
      (pb.errors || []).length ? h('div', {class: 'error'}, h('h3', null, 'Files that did not load'),
        h('ul', null, pb.errors.map((x) => h('li', null, typeof x === 'string' ? x : JSON.stringify(x))))) : null),
    h('section', {class: 'panel', 'aria-labelledby': 'runs-h'},
      h('h2', {id: 'runs-h'}, only ? `Runs of ${only} ` : 'Runs (newest first)',
        only ? h('a', {href: '#/runs'}, '(all runs)') : null),
      list.length ? table([
        {label: 'Run', cell: (r) => h('a', {href: `#/runs/${encodeURIComponent(r.id)}`}, r.id)},
        {label: 'Playbook', cell: (r) => r.playbook},
        {label: 'Status', cell: (r) => [status(r.status),
          pending.has(r.id) ? [' ', h('a', {href: '#/approvals', class: 'awaiting'}, 'awaiting approval')] : null]},
        {label: 'Trigger', cell: (r) => `${r.trigger || ''}${r.source ? ` (${r.source})` : ''}`},
        {label: 'By', cell: (r) => r.actor || 'engine'},
        {label: 'Started', cell: (r) => h('time', {datetime: r.created, title: fmtTime(r.created)}, `${age(r.created)} ago`)},
        {label: 'Ended', cell: (r) => fmtTime(r.ended) || '—'},
      ], list, (r) => ({
        'data-nav': '', 'data-id': r.id, tabindex: '-1', 'aria-selected': 'false',
        class: pending.has(r.id) ? 'run-pending' : null,
        onopen: () => { location.hash = `#/runs/${encodeURIComponent(r.id)}`; },
        ondblclick: () => { location.hash = `#/runs/${encodeURIComponent(r.id)}`; },
      })) : h('p', {class: 'muted', id: 'no-runs'}, 'No run yet.')),
    h('section', {class: 'panel'}, form),
    h('p', {class: 'hint'}, 'j / k to move through the runs, Enter to open one, ? for every shortcut.'));
  root.dataset.loaded = 'runs';
}

async function renderDetail(root, route, current) {
  const id = route.id;
  const run = await api.get(`/api/v1/runs/${encodeURIComponent(id)}`);
  if (!current()) return;
  const back = h('p', null, h('a', {href: '#/runs', 'data-back': ''}, '← Playbooks and runs'));
  if (!run || typeof run !== 'object') {
    // the server answered 200 with a body that is not JSON: say so rather than show nothing
    mount(root, back, h('h1', null, `Run ${id}`),
      h('p', {class: 'error', role: 'alert'}, 'The server returned this run as invalid JSON:'),
      h('pre', {class: 'json'}, String(run).slice(0, 20000)));
    root.dataset.loaded = 'run';
    return;
  }
  const canAct = api.may('analyst');
  const why = canAct ? null : 'needs the analyst role';
  const again = () => renderDetail(root, route, current);
  const act = async (verb, body, what) => {
    try {
      await api.post(`/api/v1/runs/${encodeURIComponent(id)}/${verb}`, body);
      notice(what);
      // the engine applies a decision on its own thread: wait (at most 5 s) until the run's
      // status moved before showing it again, so the page does not show the old state
      for (let i = 0; i < 25; i++) {
        const now = await api.get(`/api/v1/runs/${encodeURIComponent(id)}`).catch(() => null);
        if (!now || now.status !== run.status || (now.approvals || []).length !== (run.approvals || []).length ||
            (now.approvals || []).some((a, k) => a.status !== run.approvals[k]?.status)) break;
        await new Promise((res) => setTimeout(res, 200));
      }
    } catch (e) {
      notice(`${verb} failed: ${e.message}`, 'error');
    }
    await again();
  };
  const open = !run.ended && !ENDED.has(run.status);
  const approvals = run.approvals || [];
  const pendingAp = approvals.filter((a) => a.status === 'pending');
  const steps = run.steps || [];

  const decision = (a, n) => {
    const cid = `run-comment-${n}`;
    const comment = h('input', {id: cid, name: 'comment', placeholder: 'why', disabled: canAct ? null : true});
    return h('div', {class: 'card', 'data-step': a.step},
      h('h3', null, a.message || `Step ${a.step}`),
      h('p', {class: 'muted'}, `step ${a.step} · approvers ${pretty(a.approvers)} · deadline ${fmtTime(a.deadline)} (then ${a.default})`),
      h('label', {for: cid}, 'Comment'), comment,
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'primary', 'data-action': 'approve', disabled: canAct ? null : true, title: why,
          onclick: () => act('approve', {step: a.step, comment: comment.value}, `Approved: ${a.step} (run ${id})`)}, 'Approve'),
        h('button', {type: 'button', class: 'danger', 'data-action': 'deny', disabled: canAct ? null : true, title: why,
          onclick: () => act('deny', {step: a.step, comment: comment.value}, `Denied: ${a.step} (run ${id})`)}, 'Deny')));
  };

  // cancel asks once more (a second click within the confirmation)
  const cancelBtn = h('button', {type: 'button', class: 'danger', 'data-action': 'cancel',
    disabled: canAct && open ? null : true, title: !canAct ? why : open ? 'cancel this run' : 'the run has ended'}, 'Cancel run…');
  const confirmBox = h('div', {class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm cancel'},
    h('span', null, `Cancel run ${id}? Steps not yet run will not run.`),
    h('button', {type: 'button', class: 'danger', 'data-action': 'confirm-cancel',
      onclick: () => act('cancel', {}, `Cancelled run ${id}`)}, 'Yes, cancel the run'),
    h('button', {type: 'button', onclick: () => { confirmBox.hidden = true; cancelBtn.focus(); }}, 'Keep it running'));
  cancelBtn.addEventListener('click', () => {
    confirmBox.hidden = false;
    confirmBox.querySelector('button').focus();
  });

  mount(root,
    back,
    h('h1', null, `Run ${run.id} · `, run.playbook),
    h('div', {class: 'badges'}, status(run.status),
      pendingAp.length ? h('a', {href: '#/approvals', class: 'awaiting'}, 'awaiting approval') : null),
    h('div', {class: 'actions', role: 'group', 'aria-label': 'Run actions'}, cancelBtn, confirmBox),
    h('section', {class: 'panel', 'aria-labelledby': 'run-facts'},
      h('h2', {id: 'run-facts'}, 'Run'),
      h('dl', {class: 'facts'},
        [['Playbook', h('a', {href: `#/runs?playbook=${encodeURIComponent(run.playbook)}`}, run.playbook)],
          ['Playbook version', run.playbook_hash || '—'],
          ['Trigger', `${run.trigger || ''}${run.source ? ` (${run.source})` : ''}`],
          ['Started by', run.actor || 'engine'],
          ['Created', fmtTime(run.created)],
          ['Ended', fmtTime(run.ended) || '—'],
          ['Deadline', fmtTime(run.deadline) || '—'],
          ['Error', run.error || '—'],
        ].map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      run.context !== undefined ? h('details', {class: 'ctx'}, h('summary', null, 'Context (what the trigger passed)'),
        h('pre', {class: 'json'}, pretty(run.context))) : null),
    pendingAp.length ? h('section', {class: 'panel', 'aria-labelledby': 'run-pending-h'},
      h('h2', {id: 'run-pending-h'}, 'Waiting for a decision'), pendingAp.map(decision)) : null,
    h('section', {class: 'panel', 'aria-labelledby': 'run-steps'},
      h('h2', {id: 'run-steps'}, `Steps (${steps.length})`),
      steps.length ? h('ol', {class: 'steps'}, steps.map((s) => h('li', {class: 'step', 'data-step': s.step, 'data-status': s.status},
        h('h3', null, h('code', null, s.step), ' ', status(s.status), s.action ? h('span', {class: 'muted'}, ` ${s.action}`) : null,
          s.attempt > 1 ? h('span', {class: 'muted'}, ` · attempt ${s.attempt}`) : null),
        h('p', {class: 'muted'}, `started ${fmtTime(s.started) || '—'} · ended ${fmtTime(s.ended) || '—'}`,
          s.next_attempt_at ? ` · next attempt ${fmtTime(s.next_attempt_at)}` : '',
          s.deadline ? ` · deadline ${fmtTime(s.deadline)}` : ''),
        s.error ? h('p', {class: 'error'}, s.error) : null,
        h('div', {class: 'io'},
          h('div', null, h('h4', null, 'Input'), h('pre', {class: 'json step-input'}, pretty(s.input))),
          h('div', null, h('h4', null, 'Output'), h('pre', {class: 'json step-output'}, pretty(s.output)))))))
        : h('p', {class: 'muted'}, 'No step has started yet.')),
    h('section', {class: 'panel', 'aria-labelledby': 'run-approvals'},
      h('h2', {id: 'run-approvals'}, 'Approvals'),
      approvals.length ? table([
        {label: 'Step', cell: (a) => a.step},
        {label: 'Status', cell: (a) => status(a.status)},
        {label: 'Decided by', cell: (a) => a.decided_by || '—'},
        {label: 'Comment', cell: (a) => a.comment || '—'},
        {label: 'Decided', cell: (a) => fmtTime(a.decided) || '—'},
        {label: 'Deadline', cell: (a) => `${fmtTime(a.deadline)} (then ${a.default})`},
      ], approvals, (a) => ({class: 'approval', 'data-step': a.step})) : h('p', {class: 'muted'}, 'This run asked for no approval.')));
  root.dataset.loaded = 'run';
}
