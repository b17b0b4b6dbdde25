// cases.js — cases (docs/cases.md): the list (GET /api/v1/cases, newest first) and a case's
// detail (GET /api/v1/cases/{id}, /observables, /timeline, /tasks): status, severity and
// verdict (PATCH /api/v1/cases/{id}), tasks (POST /api/v1/cases/{id}/tasks, PATCH
// /api/v1/cases/tasks/{id} to mark one done), observables (POST .../observables), a comment
// box (POST .../comments), "run a playbook" with the case as its context (GET
// /api/v1/playbooks, POST /api/v1/playbooks/{id}/run) and the report
// (GET /api/v1/cases/{id}/report?format=html, in a new tab).

import * as api from './api.js';
import {fmtTime, h, mount, notice, sevBadge, table} from './dom.js';

export async function render(root, route, current) {
  if (route.id) return renderDetail(root, route, current);
  const status = route.params.get('status') || '';
  const res = await api.get('/api/v1/cases', {status, limit: 200});
  if (!current()) return;
  const list = res.cases || [];
  mount(root,
    h('h1', null, 'Cases'),
    list.length ? table([
      {label: '#', class: 'num', cell: (c) => String(c.id)},
      {label: 'Severity', cell: (c) => sevBadge(c.severity_name)},
      {label: 'Case', cell: (c) => h('a', {href: `#/cases/${c.id}`, class: 'case-title'}, c.title)},
      {label: 'Status', cell: (c) => h('span', {class: `status st-${c.status}`}, c.status)},
      {label: 'TLP', cell: (c) => c.tlp},
      {label: 'Assignee', cell: (c) => c.assignee || '—'},
      {label: 'Tags', cell: (c) => (c.tags || []).join(', ')},
      {label: 'Updated', cell: (c) => fmtTime(c.updated)},
    ], list, (c) => ({'data-nav': '', tabindex: '-1', 'aria-selected': 'false',
      onopen: () => { location.hash = `#/cases/${c.id}`; }}))
      : h('p', {class: 'muted'}, 'No case yet.'));
  root.dataset.loaded = 'cases';
}

const STATUSES = [['new', 'new'], ['in_progress', 'in progress'], ['resolved', 'resolved']];
const SEVERITIES = [[1, 'low'], [2, 'medium'], [3, 'high'], [4, 'critical']];
const VERDICTS = [['', '—'], ['true_positive', 'true positive'], ['false_positive', 'false positive'], ['benign', 'benign'], ['duplicate', 'duplicate']];
const OBS_TYPES = ['auto', 'ip', 'domain', 'fqdn', 'url', 'hash', 'mail', 'filename', 'user-agent', 'hostname', 'user', 'other'];

const opts = (list, cur) => list.map(([v, l]) => h('option', {value: v, selected: String(v) === String(cur ?? '') ? true : null}, l));

// The context a playbook run from the case gets: the case, and its newest linked alert in the
// shape of a stored alert (dotted ECS keys), so templates such as {{ alert.source.ip }} work.
export function runContext(c, obs) {
  const a = (c.alerts || []).slice().sort((x, y) => String(y.ts).localeCompare(String(x.ts)))[0];
  const alert = {};
  if (a) {
    alert.id = a.id;
    alert['@timestamp'] = a.ts;
    alert['rule.id'] = a.rule_id;
    alert['rule.name'] = a.title;
    alert.level = a.level;
    if (a.src_ip) alert['source.ip'] = a.src_ip;
    if (a.dst_ip) alert['destination.ip'] = a.dst_ip;
    if (a.host) alert['host.name'] = a.host;
    if (a.user) alert['user.name'] = a.user;
    if (a.attack) alert['threat.technique.id'] = a.attack;
  }
  return {
    alert,
    case: {id: c.id, title: c.title, severity: c.severity_name, status: c.status, tlp: c.tlp, tags: c.tags || [],
      assignee: c.assignee, alerts: (c.alerts || []).map((x) => x.id), incidents: c.incidents || [],
      observables: obs.map((o) => ({type: o.type || o.dataType, value: o.value || o.data, ioc: !!o.ioc}))},
  };
}

async function renderDetail(root, route, current) {
  const id = encodeURIComponent(route.id);
  const [c, obs, tl, tasks, pbs] = await Promise.all([
    api.get(`/api/v1/cases/${id}`),
    api.get(`/api/v1/cases/${id}/observables`),
    api.get(`/api/v1/cases/${id}/timeline`),
    api.get(`/api/v1/cases/${id}/tasks`),
    api.get('/api/v1/playbooks').catch(() => ({playbooks: []})),
  ]);
  if (!current()) return;
  const canChange = api.may('analyst') && !c.merged_into;
  const off = canChange ? null : true;
  const why = canChange ? null : c.merged_into ? `merged into case #${c.merged_into}` : 'needs the analyst role';
  // submit a form's change, re-render, say what happened (errors stay next to the form)
  const onSubmit = (form, what, fn) => {
    const err = h('p', {class: 'error', role: 'alert'});
    form.append(err);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const msg = await fn();
        if (!current()) return;
        await renderDetail(root, route, current);
        notice(msg || what);
      } catch (ex) {
        err.textContent = `${what} failed: ${ex.message}`;
        notice(`${what} failed: ${ex.message}`, 'error');
      }
    });
    return form;
  };

  // status, severity, verdict, summary
  const st = h('select', {id: 'case-status', name: 'status'}, opts(STATUSES, c.status));
  const sev = h('select', {id: 'case-severity', name: 'severity'}, opts(SEVERITIES, c.severity));
  const ver = h('select', {id: 'case-verdict', name: 'verdict'}, opts(VERDICTS, c.verdict));
  const sum = h('input', {id: 'case-summary', name: 'summary', value: c.summary || '', placeholder: 'closing summary'});
  const edit = onSubmit(h('form', {class: 'actions case-edit', id: 'case-edit', 'aria-label': 'Status and severity'},
    h('label', {for: 'case-status'}, 'Status'), st,
    h('label', {for: 'case-severity'}, 'Severity'), sev,
    h('label', {for: 'case-verdict'}, 'Verdict'), ver,
    h('label', {for: 'case-summary'}, 'Summary'), sum,
    h('button', {type: 'submit', disabled: off, title: why}, 'Save')), 'Update', async () => {
    const body = {};
    if (st.value !== c.status) body.status = st.value;
    if (Number(sev.value) !== Number(c.severity)) body.severity = Number(sev.value);
    if (ver.value && ver.value !== (c.verdict || '')) body.verdict = ver.value;
    if (sum.value !== (c.summary || '')) body.summary = sum.value;
    if (!Object.keys(body).length) return 'Nothing changed';
    if (body.status === 'resolved' && !ver.value) throw new Error('choose a verdict to resolve the case');
    await api.patch(`/api/v1/cases/${id}`, body);
    return 'Case updated';
  });

  // tasks
  const taskList = tasks.tasks || [];
  const tTitle = h('input', {id: 'task-title', name: 'title', required: true, placeholder: 'what to do'});
  const tGroup = h('input', {id: 'task-group', name: 'group', placeholder: 'default', class: 'narrow'});
  const taskForm = onSubmit(h('form', {class: 'actions task-add', 'aria-label': 'Add a task'},
    h('label', {for: 'task-title'}, 'Task'), tTitle,
    h('label', {for: 'task-group'}, 'Group'), tGroup,
    h('button', {type: 'submit', disabled: off, title: why}, 'Add task')), 'Adding the task', async () => {
    await api.post(`/api/v1/cases/${id}/tasks`, {title: tTitle.value, group: tGroup.value || undefined});
    return 'Task added';
  });
  const taskAct = async (t, status, what) => {
    try {
      await api.patch(`/api/v1/cases/tasks/${encodeURIComponent(t.id)}`, {status});
      if (!current()) return;
      await renderDetail(root, route, current);
      notice(what);
    } catch (ex) {
      notice(`${what} failed: ${ex.message}`, 'error');
    }
  };
  const tasksTable = taskList.length ? table([
    {label: 'Task', cell: (t) => [t.title, t.description ? h('div', {class: 'muted'}, t.description) : null]},
    {label: 'Group', cell: (t) => t.group || ''},
    {label: 'Status', cell: (t) => h('span', {class: `status st-${t.status}`}, String(t.status || '').replace('_', ' '))},
    {label: 'Assignee', cell: (t) => t.assignee || '—'},
    {label: '', cell: (t) => t.status === 'completed' || t.status === 'cancelled'
      ? h('button', {type: 'button', 'data-task-reopen': t.id, disabled: off, title: why,
        onclick: () => taskAct(t, 'waiting', 'Task reopened')}, 'Reopen')
      : h('button', {type: 'button', 'data-task-done': t.id, disabled: off, title: why,
        onclick: () => taskAct(t, 'completed', 'Task done')}, 'Mark done')},
  ], taskList, (t) => ({'data-task': t.id, class: `task st-${t.status}`})) : h('p', {class: 'muted'}, 'No task yet.');

  // observables
  const oType = h('select', {id: 'obs-type', name: 'type'}, OBS_TYPES.map((t) => h('option', {value: t}, t === 'auto' ? 'detect' : t)));
  const oValue = h('input', {id: 'obs-value', name: 'value', required: true, placeholder: 'IP, domain, hash, URL…'});
  const oIoc = h('input', {id: 'obs-ioc', name: 'ioc', type: 'checkbox'});
  const obsForm = onSubmit(h('form', {class: 'actions obs-add', 'aria-label': 'Add an observable'},
    h('label', {for: 'obs-type'}, 'Type'), oType,
    h('label', {for: 'obs-value'}, 'Value'), oValue,
    h('label', {for: 'obs-ioc'}, oIoc, ' IOC'),
    h('button', {type: 'submit', disabled: off, title: why}, 'Add observable')), 'Adding the observable', async () => {
    const body = {type: oType.value, value: oValue.value.trim()};
    if (oIoc.checked) body.ioc = true;
    const r = await api.post(`/api/v1/cases/${id}/observables`, body);
    return r && r.added === false ? 'Observable merged with the one already there' : 'Observable added';
  });

  // run a playbook with the case as its context
  const enabled = (pbs.playbooks || []).filter((p) => p.enabled);
  const pbSel = h('select', {id: 'case-playbook', name: 'playbook'},
    enabled.map((p) => h('option', {value: p.id}, p.name ? `${p.name} (${p.id})` : p.id)));
  const runOut = h('p', {class: 'run-result', id: 'case-run-result', 'aria-live': 'polite'});
  const runForm = h('form', {class: 'actions case-run', 'aria-label': 'Run a playbook on this case'},
    h('label', {for: 'case-playbook'}, 'Playbook'), pbSel,
    h('button', {type: 'submit', disabled: canChange && enabled.length ? null : true,
      title: why || (enabled.length ? null : 'no enabled playbook')}, 'Run playbook'),
    runOut);
  runForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    runOut.className = 'run-result';
    try {
      const r = await api.post(`/api/v1/playbooks/${encodeURIComponent(pbSel.value)}/run`, runContext(c, obs.observables || []));
      mount(runOut, `Run `, h('a', {href: `#/runs/${encodeURIComponent(r.run)}`, 'data-run': r.run}, r.run),
        ` of ${pbSel.value} started (${r.status || 'running'}).`);
      notice(`Playbook ${pbSel.value} started: ${r.run}`);
    } catch (ex) {
      runOut.className = 'run-result error';
      mount(runOut, `${pbSel.value}: ${ex.message}`);
      notice(`Playbook run failed: ${ex.message}`, 'error');
    }
  });

  // comments
  const text = h('textarea', {id: 'case-comment', name: 'text', rows: 3, required: true});
  const form = onSubmit(h('form', {class: 'comment', 'aria-label': 'Add a comment'},
    h('label', {for: 'case-comment'}, 'Comment'), text,
    h('button', {type: 'submit', disabled: off, title: why}, 'Add comment')), 'Comment', async () => {
    await api.post(`/api/v1/cases/${id}/comments`, {text: text.value});
    return 'Comment added';
  });

  mount(root,
    h('p', null, h('a', {href: '#/cases', 'data-back': ''}, '← Cases')),
    h('h1', null, `Case #${c.id} `, c.title),
    h('div', {class: 'badges'}, sevBadge(c.severity_name), h('span', {class: `status st-${c.status}`}, c.status),
      c.verdict ? h('span', {class: 'verdict'}, c.verdict) : null,
      h('span', null, `TLP:${String(c.tlp).toUpperCase()}`),
      c.merged_into ? h('a', {href: `#/cases/${c.merged_into}`}, `merged into #${c.merged_into}`) : null,
      h('a', {id: 'case-report', href: `/api/v1/cases/${id}/report?format=html`, target: '_blank', rel: 'noopener'}, 'Post-incident report')),
    c.description ? h('p', {class: 'description'}, c.description) : null,
    edit,
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'case-alerts'},
        h('h2', {id: 'case-alerts'}, `Linked alerts and incidents (${(c.alerts || []).length})`),
        (c.alerts || []).length ? table([
          {label: 'Alert', class: 'num', cell: (a) => String(a.id)},
          {label: 'Time', cell: (a) => fmtTime(a.ts)},
          {label: 'Level', cell: (a) => sevBadge(a.level)},
          {label: 'Rule', cell: (a) => a.title || a.rule_id},
          {label: 'Source', cell: (a) => a.src_ip || ''},
        ], c.alerts || [], (a) => ({'data-alert': a.id})) : h('p', {class: 'muted'}, 'No alert linked.'),
        (c.incidents || []).length ? h('ul', {class: 'case-incidents'}, c.incidents.map((i) => h('li', {'data-incident': i},
          h('a', {href: `#/incidents/${i}`}, `Incident #${i}`)))) : null),
      h('section', {class: 'panel', 'aria-labelledby': 'case-obs'},
        h('h2', {id: 'case-obs'}, 'Observables'),
        (obs.observables || []).length ? table([
          {label: 'Type', cell: (o) => o.type || o.dataType || ''},
          {label: 'Value', cell: (o) => o.value || o.data || ''},
          {label: 'IOC', cell: (o) => (o.ioc ? 'yes' : '')},
          {label: 'Tags', cell: (o) => (o.tags || []).join(', ')},
        ], obs.observables || [], (o) => ({'data-obs': o.value || o.data || ''})) : h('p', {class: 'muted'}, 'No observable yet.'),
        obsForm)),
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'case-tasks'},
        h('h2', {id: 'case-tasks'}, `Tasks (${taskList.filter((t) => t.status === 'completed').length}/${taskList.length} done)`),
        tasksTable, taskForm),
      h('section', {class: 'panel', 'aria-labelledby': 'case-run'},
        h('h2', {id: 'case-run'}, 'Run a playbook'),
        h('p', {class: 'hint'}, 'The run gets this case (with its observables) as case, and its newest linked alert as alert.'),
        runForm)),
    h('section', {class: 'panel', 'aria-labelledby': 'case-tl'},
      h('h2', {id: 'case-tl'}, 'Timeline'),
      h('ol', {class: 'timeline'}, (tl.timeline || []).map((t) => h('li', {'data-kind': t.kind || ''},
        h('time', {datetime: t.ts}, fmtTime(t.ts)), ' ', h('span', {class: 'actor'}, t.actor || ''), ' ',
        h('span', {class: 'kind'}, t.kind || ''), ' ', t.text || ''))),
      form));
  root.dataset.loaded = 'case';
}
