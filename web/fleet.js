// fleet.js — the agents (GET /api/v1/agents: status, version, last seen, collectors and their
// backends) and an agent's detail (#/fleet/ID: GET /api/v1/agents/{id} and its commands,
// GET /api/v1/agents/{id}/commands) with isolate / release (POST /api/v1/agents/{id}/commands
// {"action":"isolate_host","args":{"server_ips":[…],"allow":[…]}} or "release_host", analyst),
// each behind a confirmation. A server without `fleet.listen` has no agent routes (404): the
// page says so and how to enrol. j/k move through the agents, Enter opens one.

import * as api from './api.js';
import {age, fmtTime, h, mount, notice, table} from './dom.js';

const status = (s) => h('span', {class: `status st-${s}`}, s || '—');

// collectors: {"process":"netlink","fim":"inotify"} (or a list) → "process (netlink), fim (inotify)"
export function collectorsText(c) {
  if (!c) return '—';
  if (Array.isArray(c)) return c.join(', ') || '—';
  if (typeof c === 'object') {
    const parts = Object.entries(c).map(([k, v]) => (v && typeof v !== 'object' ? `${k} (${v})` : k));
    return parts.join(', ') || '—';
  }
  return String(c);
}

function enrollHelp() {
  return h('section', {class: 'panel enroll', 'aria-labelledby': 'enroll-h'},
    h('h2', {id: 'enroll-h'}, 'Enrol an agent'),
    h('ol', null,
      h('li', null, 'Enable the fleet listener in the server\'s configuration (', h('code', null, 'fleet.listen: 0.0.0.0:8471'),
        ', and ', h('code', null, 'fleet.endpoint'), ' if agents reach it by another name) and restart the server.'),
      h('li', null, 'As an admin, create an enrollment token: ',
        h('code', null, 'POST /api/v1/agents/enroll-tokens {"ttl":"24h","uses":10}'), ' (shown once).'),
      h('li', null, 'On the host: ',
        h('code', null, `vigie-agent enroll --server ${location.origin} --token vge_... --state /var/lib/vigie-agent`),
        ', then start ', h('code', null, 'vigie-agent'), '.')),
    h('p', {class: 'hint'}, 'See docs/fleet.md. An enrolled agent appears here (offline until it connects).'));
}

// Is the fleet enabled? A server without `fleet.listen` has no agent routes at all (404), and
// no API says so; its metrics do (`vigie_fleet_connections` exists only with a fleet). Asked
// once per page load (the server's configuration changes only with a restart); null when the
// metrics cannot be read (then the agent routes are tried).
let probe = null;
export function fleetEnabled() {
  if (!probe) {
    probe = api.get('/metrics').then((t) => (typeof t === 'string' ? /^vigie_fleet_connections /m.test(t) : null),
      (e) => {
        probe = null;
        if (e instanceof api.ApiError && e.status === 401) throw e;
        return null;
      });
  }
  return probe;
}

// GET an agent route; null when the server runs without the fleet.
async function fleetGet(path, query) {
  if (await fleetEnabled() === false) return null;
  try {
    return await api.get(path, query);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404 && e.message === 'no such endpoint') return null;
    throw e;
  }
}

// The tenant's agents (GET /api/v1/agents), or null without a fleet (the overview's count).
export const listAgents = () => fleetGet('/api/v1/agents');

export async function render(root, route, current) {
  if (route.id) return renderDetail(root, route, current);
  const st = route.params.get('status') || '';
  const res = await fleetGet('/api/v1/agents', {status: st});
  if (!current()) return;
  if (!res) {
    mount(root, h('h1', null, 'Fleet'),
      h('p', {class: 'empty', id: 'fleet-empty'}, 'The fleet is not enabled on this server (', h('code', null, 'fleet.listen'),
        ' is empty), so no agent can enrol yet.'),
      enrollHelp());
    root.dataset.loaded = 'fleet';
    return;
  }
  const agents = res.agents || [];
  const online = agents.filter((a) => a.status === 'online').length;
  const sel = h('select', {id: 'fleet-status', name: 'status'},
    [['', 'All'], ['online', 'Online'], ['offline', 'Offline'], ['revoked', 'Revoked']]
      .map(([v, l]) => h('option', {value: v, selected: v === st}, l)));
  sel.addEventListener('change', () => { location.hash = sel.value ? `#/fleet?status=${sel.value}` : '#/fleet'; });
  mount(root,
    h('h1', null, 'Fleet'),
    h('div', {class: 'filters'}, h('label', {for: 'fleet-status'}, 'Status'), sel,
      h('span', {class: 'muted', id: 'fleet-count'}, `${agents.length} agent${agents.length === 1 ? '' : 's'}, ${online} online`)),
    agents.length ? table([
      {label: 'Host', cell: (a) => h('a', {href: `#/fleet/${encodeURIComponent(a.id)}`}, a.hostname || a.id)},
      {label: 'Status', cell: (a) => status(a.status)},
      {label: 'Version', cell: (a) => a.version || '—'},
      {label: 'OS', cell: (a) => a.os || '—'},
      {label: 'Last seen', cell: (a) => (a.last_seen ? h('time', {datetime: a.last_seen, title: fmtTime(a.last_seen)}, `${age(a.last_seen)} ago`) : 'never')},
      {label: 'Collectors (backend)', cell: (a) => collectorsText(a.collectors)},
      {label: 'Id', cell: (a) => h('code', null, a.id)},
    ], agents, (a) => ({
      'data-nav': '', 'data-id': a.id, tabindex: '-1', 'aria-selected': 'false',
      onopen: () => { location.hash = `#/fleet/${encodeURIComponent(a.id)}`; },
      ondblclick: () => { location.hash = `#/fleet/${encodeURIComponent(a.id)}`; },
    })) : [h('p', {class: 'empty', id: 'fleet-empty'}, st ? `No ${st} agent.` : 'No agent has enrolled yet.'), st ? null : enrollHelp()],
    h('p', {class: 'hint'}, 'j / k to move, Enter to open, ? for every shortcut.'));
  root.dataset.loaded = 'fleet';
}

const splitList = (s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

async function renderDetail(root, route, current) {
  const id = route.id;
  const base = `/api/v1/agents/${encodeURIComponent(id)}`;
  const [a, cmds] = await Promise.all([fleetGet(base), fleetGet(`${base}/commands`, {limit: 50})]);
  if (!current()) return;
  const back = h('p', null, h('a', {href: '#/fleet', 'data-back': ''}, '← Fleet'));
  if (!a) {
    mount(root, back, h('h1', null, 'Agent'), h('p', {class: 'empty'}, 'The fleet is not enabled on this server.'));
    root.dataset.loaded = 'agent';
    return;
  }
  const canAct = api.may('analyst') && a.status !== 'revoked';
  const why = !api.may('analyst') ? 'needs the analyst role' : a.status === 'revoked' ? 'the agent is revoked' : null;
  const send = async (action, args, what) => {
    try {
      const r = await api.post(`${base}/commands`, {action, args, ttl: '10m'});
      notice(`${what}: command ${r.id} ${r.status}${a.status === 'online' ? '' : ' (sent when the agent connects, within 10 min)'}`);
    } catch (e) {
      notice(`${what} failed: ${e.message}`, 'error');
    }
    await renderDetail(root, route, current);
  };

  // isolate: the server's addresses must stay reachable (the agent refuses without them)
  // (prefilled with the console's address when it is a literal, non-loopback IP)
  const host = location.hostname.replace(/[[\]]/g, '');
  const guess = /^[\d.]+$|^[0-9a-f:]+$/i.test(host) && !/^127\.|^::1$/.test(host) ? host : '';
  const ips = h('input', {id: 'iso-server', name: 'server_ips', value: guess, placeholder: '192.0.2.10, 10.0.0.0/24',
    disabled: canAct ? null : true, 'aria-describedby': 'iso-help'});
  const allow = h('input', {id: 'iso-allow', name: 'allow', placeholder: 'optional: more addresses or prefixes', disabled: canAct ? null : true});
  const isoErr = h('p', {class: 'error', role: 'alert', id: 'iso-error'});
  const confirm = h('div', {class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm'});
  const ask = (text, yes, onYes) => {
    mount(confirm, h('span', null, text),
      h('button', {type: 'button', class: 'danger', 'data-action': 'confirm', onclick: () => { confirm.hidden = true; onYes(); }}, yes),
      h('button', {type: 'button', 'data-action': 'dismiss', onclick: () => { confirm.hidden = true; }}, 'No'));
    confirm.hidden = false;
    confirm.querySelector('button').focus();
  };
  const isolateBtn = h('button', {type: 'button', class: 'danger', 'data-action': 'isolate', disabled: canAct ? null : true, title: why,
    onclick: () => {
      isoErr.textContent = '';
      const server = splitList(ips.value);
      if (!server.length) {
        isoErr.textContent = 'Give the server\'s address(es): the host keeps only those (and the allowed ones) reachable.';
        ips.focus();
        return;
      }
      const extra = splitList(allow.value);
      ask(`Isolate ${a.hostname || id}? It will reach only ${[...server, ...extra].join(', ')} until released.`, 'Yes, isolate',
        () => send('isolate_host', extra.length ? {server_ips: server, allow: extra} : {server_ips: server}, 'Isolate'));
    }}, 'Isolate host…');
  const releaseBtn = h('button', {type: 'button', 'data-action': 'release', disabled: canAct ? null : true, title: why,
    onclick: () => ask(`Release ${a.hostname || id} from isolation?`, 'Yes, release', () => send('release_host', {}, 'Release'))}, 'Release…');

  const list = (cmds && cmds.commands) || [];
  mount(root,
    back,
    h('h1', null, a.hostname || id),
    h('div', {class: 'badges'}, status(a.status), h('span', {class: 'muted'}, a.version ? `agent ${a.version}` : '')),
    h('section', {class: 'panel', 'aria-labelledby': 'agent-resp'},
      h('h2', {id: 'agent-resp'}, 'Response'),
      h('div', {class: 'actions isolate'},
        h('label', {for: 'iso-server'}, 'Server addresses'), ips,
        h('label', {for: 'iso-allow'}, 'Also allow'), allow,
        isolateBtn, releaseBtn),
      h('p', {id: 'iso-help', class: 'hint'}, 'Isolation drops every packet except to and from these addresses, loopback, DHCP and IPv6 neighbour discovery (docs/agent-response.md).'),
      isoErr, confirm),
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'agent-facts'},
        h('h2', {id: 'agent-facts'}, 'Agent'),
        h('dl', {class: 'facts'}, [
          ['Id', h('code', null, a.id)],
          ['Hostname', a.hostname || '—'],
          ['OS', a.os || '—'],
          ['Version', a.version || '—'],
          ['Addresses', (a.ips || []).join(', ') || '—'],
          ['Collectors (backend)', collectorsText(a.collectors)],
          ['Last seen', a.last_seen ? `${fmtTime(a.last_seen)} (${age(a.last_seen)} ago)` : 'never'],
          ['Enrolled', fmtTime(a.enrolled) || '—'],
          ['Certificate serial', a.cert_serial || '—'],
          ['Tenant', a.tenant || '—'],
        ].map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
      h('section', {class: 'panel', 'aria-labelledby': 'agent-cmds'},
        h('h2', {id: 'agent-cmds'}, `Commands (${list.length})`),
        list.length ? table([
          {label: 'Issued', cell: (c) => fmtTime(c.issued)},
          {label: 'Action', cell: (c) => h('code', null, c.action)},
          {label: 'Status', cell: (c) => status(c.status)},
          {label: 'By', cell: (c) => c.actor || '—'},
          {label: 'Arguments', cell: (c) => h('pre', {class: 'json'}, JSON.stringify(c.args))},
          {label: 'Result', cell: (c) => (c.result === null || c.result === undefined ? '—' : h('pre', {class: 'json'}, JSON.stringify(c.result, null, 2)))},
        ], list, (c) => ({class: 'cmd', 'data-id': c.id})) : h('p', {class: 'muted'}, 'No command sent to this agent.'))));
  root.dataset.loaded = 'agent';
}
