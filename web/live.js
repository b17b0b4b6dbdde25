// live.js — live updates over server-sent events (GET /api/v1/stream, ?tenant= as the API calls): the server sends an
// "update" event with its counters whenever they, or the incidents, change; the shell then
// re-reads the page's data (overview, incident queue) through the usual routes. The header
// shows the state: live, reconnecting (EventSource retries by itself) or off.

import {tenant} from './api.js';

let source = null;
let last = null;

function show(state, text) {
  const el = document.getElementById('live');
  if (!el) return;
  el.dataset.state = state;
  el.textContent = text;
}

// Start listening (once per log-in); onChange(update) runs for every change after the first
// message (which only tells the current state).
export function start(onChange) {
  if (source) return;
  last = null;
  source = new EventSource(tenant() ? `/api/v1/stream?tenant=${encodeURIComponent(tenant())}` : '/api/v1/stream');
  show('connecting', '○ connecting');
  source.addEventListener('open', () => show('live', '● live'));
  source.addEventListener('update', (e) => {
    show('live', '● live');
    let u;
    try {
      u = JSON.parse(e.data);
    } catch {
      return;
    }
    const prev = last;
    last = u;
    if (prev) onChange(u, prev);
  });
  source.addEventListener('error', () => {
    // closed for good (e.g. 401 after the session ended) or retrying
    if (source && source.readyState === EventSource.CLOSED) stop();
    else show('reconnecting', '○ reconnecting');
  });
}

export function stop() {
  if (source) source.close();
  source = null;
  show('off', '');
}
