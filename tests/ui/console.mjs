// console.mjs — the web console end to end in headless Chromium (playwright-core), run by
// tests/ui/test_console.sh against a `vigie server --demo` it started. Environment:
//   VIGIE_URL      http://127.0.0.1:PORT
//   UI_NODE_DIR    the directory where playwright-core was installed (under the build dir)
//   CHROMIUM       the browser executable (Debian's chromium)
//   ARTIFACTS      where the screenshots go
//   ANALYST_USER / ANALYST_PW, READ_USER / READ_PW   the users the driver created
//   RUN_ID         the playbook run waiting for an approval
//   PERF_EVENTS    optional: that many syslog events are ingested after the flow, then the
//                  overview's load and searches are timed over them (unset under sanitizers)
//   PERF_ONLY=1    only that (the driver runs it last, after the other pages' scripts)
// Prints "ok NAME" / "FAIL NAME" per check, the measured figures, and exits 1 on a failure.

import {ANALYST, ART, READER, URL0, check, env, figures, launch, loaded, run, shot} from './lib.mjs';

const RUN_ID = env('RUN_ID');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// ---------------------------------------------------------------- HTTP, outside the browser

let cspChecked = 0;
const cspMissing = [];
async function http(method, path, {cookie, csrf, body, headers} = {}) {
  const h = {...(headers || {})};
  if (cookie) h.Cookie = `vigie_session=${cookie}`;
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(URL0 + path, {method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual'});
  const text = await res.text();
  cspChecked++;
  if (res.headers.get('content-security-policy') !== CSP) cspMissing.push(`${method} ${path} ${res.status}`);
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {status: res.status, json, text, headers: res.headers};
}

async function login(who, fixation) {
  const r = await http('POST', '/api/v1/auth/login', {body: who, headers: fixation ? {Cookie: `vigie_session=${fixation}`} : {}});
  const sc = r.headers.get('set-cookie') || '';
  const m = /vigie_session=([^;]*)/.exec(sc);
  return {status: r.status, sid: m ? m[1] : null, csrf: r.json && r.json.csrf_token, setCookie: sc};
}

async function securityChecks() {
  // no session, no data: every API route the console reads answers 401
  const reads = ['/api/v1/stats', '/api/v1/incidents', '/api/v1/incidents/1', '/api/v1/alerts', '/api/v1/search?q=sshd',
    '/api/v1/cases', '/api/v1/cases/1', '/api/v1/approvals?status=pending', '/api/v1/runs', '/api/v1/vulns',
    '/api/v1/vulns/hosts', '/api/v1/auth/me', '/api/v1/stream'];
  const open = [];
  for (const p of reads) {
    const r = await http('GET', p);
    if (r.status !== 401) open.push(`${p} ${r.status}`);
  }
  check('every API route the console reads answers 401 without a session', open.length === 0, open);
  const r = await http('PATCH', '/api/v1/incidents/1', {body: {assignee: 'mallory'}});
  check('a change without a session answers 401', r.status === 401, r.status);

  // session fixation: an id chosen before the login is never adopted
  const planted = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const a = await login(ANALYST, planted);
  check('login as analyst', a.status === 200 && a.sid && a.csrf, a.status);
  check('login sets an HttpOnly SameSite=Strict cookie', /HttpOnly/.test(a.setCookie) && /SameSite=Strict/.test(a.setCookie), a.setCookie);
  check('login issues a fresh session id, not the planted one', a.sid && a.sid !== planted);
  const fix = await http('GET', '/api/v1/auth/me', {cookie: planted});
  check('the planted session id is refused after the login (fixation)', fix.status === 401, fix.status);
  const me = await http('GET', '/api/v1/auth/me', {cookie: a.sid});
  check('the issued session works', me.status === 200 && me.json && me.json.auth === 'session', me.text);

  // CSRF: the cookie alone never changes anything
  const noTok = await http('PATCH', '/api/v1/incidents/1', {cookie: a.sid, body: {assignee: 'mallory'}});
  check('PATCH with the session cookie but no X-CSRF-Token answers 403 csrf', noTok.status === 403 && noTok.json?.error?.code === 'csrf', noTok.text);
  const badTok = await http('POST', '/api/v1/cases/1/comments', {cookie: a.sid, csrf: 'x'.repeat(43), body: {text: 'forged'}});
  check('POST with a wrong X-CSRF-Token answers 403 csrf', badTok.status === 403 && badTok.json?.error?.code === 'csrf', badTok.text);
  const noTokApprove = await http('POST', `/api/v1/runs/${RUN_ID}/approve`, {cookie: a.sid, body: {step: 'approve-containment'}});
  check('approve without X-CSRF-Token answers 403', noTokApprove.status === 403, noTokApprove.status);
  const noTokLogout = await http('POST', '/api/v1/auth/logout', {cookie: a.sid});
  check('logout without X-CSRF-Token answers 403 (no forced log-out)', noTokLogout.status === 403, noTokLogout.status);

  // a read-only user cannot change anything (valid session and CSRF token: the role decides)
  const ro = await login(READER);
  check('login as read-only user', ro.status === 200 && ro.csrf, ro.status);
  const changes = [
    ['PATCH', '/api/v1/incidents/1', {assignee: READER.user}],
    ['PATCH', '/api/v1/incidents/1', {status: 'closed', verdict: 'benign'}],
    ['POST', '/api/v1/alerts/1/verdict', {verdict: 'false_positive'}],
    ['POST', '/api/v1/exceptions', {rule: '*', entity: {type: 'host', value: 'x'}, expires: '1d', reason: 'x'}],
    ['POST', '/api/v1/cases', {title: 'by a reader'}],
    ['PATCH', '/api/v1/cases/1', {status: 'closed'}],
    ['POST', '/api/v1/cases/1/comments', {text: 'by a reader'}],
    ['POST', '/api/v1/cases/1/alerts', {alert_ids: [1]}],
    ['POST', `/api/v1/runs/${RUN_ID}/approve`, {step: 'approve-containment'}],
    ['POST', `/api/v1/runs/${RUN_ID}/deny`, {step: 'approve-containment'}],
    ['POST', `/api/v1/runs/${RUN_ID}/cancel`, {}],
    ['POST', '/api/v1/playbooks/malware-quarantine-isolate/run', {alert: {}}],
    ['POST', '/api/v1/rules/reload', {}],
    ['POST', '/api/v1/vulns/rescan', {}],
  ];
  const allowed = [];
  for (const [m, p, b] of changes) {
    const x = await http(m, p, {cookie: ro.sid, csrf: ro.csrf, body: b});
    if (x.status !== 403 || x.json?.error?.code !== 'forbidden') allowed.push(`${m} ${p} ${x.status}`);
  }
  check(`a read-only user gets 403 on every state-changing route (${changes.length})`, allowed.length === 0, allowed);
  const inc = await http('GET', '/api/v1/incidents/1', {cookie: ro.sid});
  check('nothing changed: incident 1 still unassigned and open', inc.json?.incident?.assignee === null && inc.json?.incident?.status === 'open', inc.json?.incident);
  const ap = await http('GET', '/api/v1/approvals?status=pending', {cookie: ro.sid});
  check('nothing changed: the approval is still pending', (ap.json?.approvals || []).some((x) => x.run === RUN_ID), ap.text);
  // end the API-side sessions (with the token)
  await http('POST', '/api/v1/auth/logout', {cookie: ro.sid, csrf: ro.csrf});
  const lo = await http('POST', '/api/v1/auth/logout', {cookie: a.sid, csrf: a.csrf});
  const after = await http('GET', '/api/v1/auth/me', {cookie: a.sid});
  check('logout ends the session', lo.status === 200 && after.status === 401, `${lo.status} ${after.status}`);
}

// ---------------------------------------------------------------- the browser

async function browserChecks(browser) {
  const ctx = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await ctx.newPage();
  const responses = [];
  const problems = [];
  page.on('response', (r) => { if (r.url().startsWith(URL0)) responses.push(r); });
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  // log in
  await page.goto(`${URL0}/`);
  await loaded(page, 'login');
  check('an anonymous visit lands on the login page', page.url().endsWith('#/login'), page.url());
  await shot(page, '01-login');
  await page.fill('#login-user', ANALYST.user);
  await page.fill('#login-password', 'wrong password!');
  await page.click('form.login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '');
  check('a wrong password is refused with a message', (await page.textContent('#login-error')).includes('Invalid'));
  await page.fill('#login-password', ANALYST.password);
  await page.click('form.login button[type=submit]');
  await loaded(page, 'overview');
  check('log in shows the overview', (await page.textContent('#who')).includes(ANALYST.user));
  const cookies = await ctx.cookies();
  const sc = cookies.find((c) => c.name === 'vigie_session');
  check('the session cookie is HttpOnly and SameSite=Strict', sc && sc.httpOnly && sc.sameSite === 'Strict', sc);

  // overview: navigation start → data rendered, over a few loads
  const loads = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await loaded(page, 'overview');
    loads.push(await page.evaluate(() => performance.getEntriesByName('vigie:overview-rendered')[0].startTime));
  }
  const sorted = [...loads].sort((x, y) => x - y);
  figures.push(`overview load (navigation start -> data rendered): first ${loads[0].toFixed(0)} ms, median ${sorted[2].toFixed(0)} ms, max ${sorted[4].toFixed(0)} ms over 5 loads`);
  check('the overview shows counters and the severity chart', await page.locator('.tile').count() >= 5 && await page.locator('svg.chart rect.bar').count() > 0);
  await shot(page, '02-overview');

  // live updates (server-sent events): an event ingested elsewhere shows up without a reload
  await page.waitForSelector('#live[data-state="live"]', {timeout: 10000});
  const storedBefore = Number((await page.textContent('.tile .tile-value')).replace(/,/g, ''));
  await page.evaluate(() => { window.vigieNoReload = true; });
  const t1 = Date.now();
  const ing = await page.evaluate(async () => (await fetch('/api/v1/ingest', {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('vigie.csrf')},
    body: JSON.stringify({message: 'Nov 20 09:27:00 bastion sshd[2240]: Failed password for invalid user live from 192.0.2.77 port 40001 ssh2'}),
  })).status);
  await page.waitForFunction((n) => Number(document.querySelector('.tile .tile-value')?.textContent.replace(/,/g, '')) > n,
    storedBefore, {timeout: 15000});
  figures.push(`live update: event ingested -> overview counter updated in ${Date.now() - t1} ms (no reload)`);
  check('the overview follows the live stream (ingest -> counter updated, no reload)',
    ing === 200 && await page.evaluate(() => window.vigieNoReload === true), ing);

  // incidents: the demo's incident in the ranked queue, j/k + Enter, assign, acknowledge
  await page.keyboard.press('g');
  await page.keyboard.press('i');
  await loaded(page, 'incidents');
  const first = (await page.textContent('#main tbody tr:first-child')) || '';
  check('the queue shows the demo incident first (ranked by risk)', first.includes('198.51.100.23'), first);
  await shot(page, '03-incidents');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  const sel = await page.getAttribute('#main tbody tr.selected', 'data-id');
  check('j / k move the selection', sel === '1', sel);
  await page.keyboard.press('Enter');
  await loaded(page, 'incident');
  check('Enter opens the incident with its alerts and entities',
    (await page.textContent('h1')).includes('198.51.100.23') && await page.locator('#inc-ents ~ table tbody tr').count() >= 3 &&
    await page.locator('#inc-alerts ~ table tbody tr').count() >= 3);
  await page.keyboard.press('a');
  await page.waitForFunction((u) => document.querySelector('dl.facts dd')?.textContent === u, ANALYST.user);
  await page.keyboard.press('x');
  await page.waitForSelector('.badges .st-acknowledged');
  check('a assigns the incident to me, x acknowledges it', true);
  await shot(page, '04-incident');
  await page.keyboard.press('Escape');
  await loaded(page, 'incidents');
  // close the second incident with a verdict
  await page.goto(`${URL0}/#/incidents/2`);
  await loaded(page, 'incident');
  await page.selectOption('#inc-verdict', 'false_positive');
  await page.fill('#inc-summary', 'admin running whoami during maintenance');
  await page.click('button[data-key="c"]');
  await page.waitForSelector('.badges .st-closed');
  check('close with a verdict', (await page.textContent('dl.facts')).includes('false_positive'));

  // search and pivot
  await page.goto(`${URL0}/#/search`);
  await loaded(page, 'search');
  await page.fill('#search-q', 'event.module:sshd');
  let t0 = Date.now();
  await page.press('#search-q', 'Enter');
  await page.waitForSelector('#results[data-state="done"]');
  const searchMs = Date.now() - t0;
  const summary = await page.textContent('#search-summary');
  figures.push(`search "event.module:sshd" (Enter -> table rendered): ${searchMs} ms; ${summary}`);
  check('search shows events', await page.locator('#results tbody tr[data-nav]').count() > 0, summary);
  await page.waitForSelector('#histogram[data-state="done"]', {timeout: 15000});
  check('a histogram of the matching events over time is drawn above them',
    await page.locator('#histogram svg.chart rect.bar').count() > 0);
  await page.click('#results tbody tr[data-nav] button.expand');
  check('a row expands to the whole event', await page.locator('#results tr.detail:not([hidden]) dl.event').count() === 1);
  await page.click('#results tr.detail:not([hidden]) button[aria-label="Add host.name=bastion to the query"]');
  await page.waitForFunction(() => document.getElementById('search-q')?.value.includes('host.name:"bastion"') &&
    document.getElementById('results')?.dataset.state === 'done');
  check('+ on a value adds field:"value" to the query and runs it', (await page.inputValue('#search-q')) === 'event.module:sshd host.name:"bastion"', await page.inputValue('#search-q'));
  await page.click('#results tr[data-nav] button.val[data-field="event.outcome"]');
  await page.waitForFunction(() => /event\.outcome:"/.test(document.getElementById('search-q')?.value) &&
    document.getElementById('results')?.dataset.state === 'done');
  const withOutcome = await page.inputValue('#search-q');
  check('a click on a value in the table includes it', /event\.outcome:"(success|failure)"$/.test(withOutcome), withOutcome);
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('search-q')?.value === 'event.module:sshd host.name:"bastion"' &&
    document.getElementById('results')?.dataset.state === 'done');
  await page.click('#results tbody tr[data-nav] button.expand');
  await page.click('#results tr.detail:not([hidden]) button[aria-label^="Exclude user.name="]');
  await page.waitForFunction(() => /NOT user\.name:"/.test(document.getElementById('search-q')?.value) &&
    document.getElementById('results')?.dataset.state === 'done');
  check('− on a value adds NOT field:"value"', /NOT user\.name:"[^"]+"$/.test(await page.inputValue('#search-q')), await page.inputValue('#search-q'));
  t0 = Date.now();
  await page.fill('#search-q', 'sshd | stats count by source.ip');
  await page.press('#search-q', 'Enter');
  await page.waitForFunction(() => document.getElementById('results')?.dataset.state === 'done' && document.querySelector('#results table'));
  figures.push(`search "sshd | stats count by source.ip": ${Date.now() - t0} ms`);
  check('an aggregation renders as a table', (await page.textContent('#results table')).includes('198.51.100.23'));
  await page.goto(`${URL0}/#/search?q=${encodeURIComponent('event.module:sshd')}`);
  await page.waitForSelector('#results[data-state="done"]');
  await page.click('#results tbody tr[data-nav] button.expand');
  await shot(page, '05-search');

  // cases: list, detail, comment
  await page.keyboard.press('g');
  await page.keyboard.press('c');
  await loaded(page, 'cases');
  check('the cases list shows the demo case', await page.locator('#main tbody tr[data-nav]').count() >= 1);
  await shot(page, '06-cases');
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await loaded(page, 'case');
  await page.fill('#case-comment', 'Checked from the console <b>not bold</b>');
  await page.click('form.comment button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('.timeline li')].some((li) => li.textContent.includes('Checked from the console <b>not bold</b>')));
  check('a case opens and takes a comment (shown as text, not HTML)', await page.locator('.timeline b').count() === 0);
  await shot(page, '07-case');

  // approvals
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await loaded(page, 'approvals');
  const card = page.locator(`li.card[data-run="${RUN_ID}"]`);
  check('the pending approval is listed', await card.count() === 1);
  await shot(page, '08-approvals');
  await card.locator('input').fill('approved from the browser test');
  await card.locator('button[data-action="approve"]').click();
  await page.waitForFunction(() => document.getElementById('notice').textContent.startsWith('Approved'));
  const run = await page.evaluate(async (id) => (await fetch(`/api/v1/runs/${id}`)).json(), RUN_ID);
  const ap = (run.approvals || []).find((x) => x.step === 'approve-containment');
  check('approve records the decision by the analyst', ap && ap.status === 'approved' && ap.decided_by === `user:${ANALYST.user}`, ap);

  // vulnerabilities
  await page.keyboard.press('g');
  await page.keyboard.press('v');
  await loaded(page, 'vulns');
  check('the vulnerabilities page lists the demo host and its findings',
    (await page.textContent('#main')).includes('bastion') && (await page.textContent('#main')).includes('CVE-2099-0201'));
  await shot(page, '09-vulns');

  // theme, kept across reloads
  const before = await page.getAttribute('html', 'data-theme');
  await page.keyboard.press('t');
  await page.reload();
  await loaded(page, 'vulns');
  const afterTheme = await page.getAttribute('html', 'data-theme');
  check('t toggles the theme and it survives a reload', before !== afterTheme && ['dark', 'light'].includes(afterTheme), `${before} → ${afterTheme}`);
  await page.goto(`${URL0}/#/overview`);
  await loaded(page, 'overview');
  await shot(page, `10-overview-${afterTheme}`);

  // log out: the cookie's session is gone on the server
  await page.click('#logout');
  await loaded(page, 'login');
  const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
  check('log out ends the session (/auth/me answers 401)', me === 401, me);
  await page.goto(`${URL0}/#/incidents`);
  await loaded(page, 'login');
  check('after log out, a page sends back to the login', page.url().endsWith('#/login'));

  // every response the browser received carried the CSP; no CSP violation, no script error
  const noCsp = [];
  for (const r of responses) {
    const v = await r.headerValue('content-security-policy');
    if (v !== CSP) noCsp.push(`${r.request().method()} ${r.url()} ${r.status()}`);
  }
  check(`the CSP header is on every response the browser received (${responses.length})`, responses.length > 20 && noCsp.length === 0, noCsp);
  const kinds = new Set(responses.map((r) => new URL(r.url()).pathname.startsWith('/api/') ? 'api' : r.url().endsWith('.js') ? 'js' : r.url().endsWith('.css') ? 'css' : 'page'));
  check('pages, scripts, styles and API answers were all checked', ['api', 'js', 'css', 'page'].every((k) => kinds.has(k)), [...kinds]);
  check('no CSP violation or script error in the console', problems.length === 0, problems);
  await ctx.close();

  // a read-only user sees the actions disabled
  const rctx = await browser.newContext();
  const rp = await rctx.newPage();
  await rp.goto(`${URL0}/#/login`);
  await loaded(rp, 'login');
  await rp.fill('#login-user', READER.user);
  await rp.fill('#login-password', READER.password);
  await rp.click('form.login button[type=submit]');
  await loaded(rp, 'overview');
  await rp.goto(`${URL0}/#/incidents/1`);
  await loaded(rp, 'incident');
  check('a read-only user sees the incident actions disabled', await rp.locator('.actions button[disabled]').count() === 3);
  await rctx.close();
}

// ---------------------------------------------------------------- many events (PERF_EVENTS)

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

// n syslog lines over the last 12 hours: sshd logins from private addresses, systemd
// sessions (nothing the built-in rules alert on), 40 hosts, 300 users.
function syslogLines(from, to, n) {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const now = Date.now();
  const out = [];
  for (let i = from; i < to; i++) {
    const d = new Date(now - 12 * 3600000 + Math.floor((i / n) * 12 * 3600000));
    const ts = `${mon[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    const host = `web-${String(i % 40).padStart(2, '0')}`;
    const user = `user${String((i * 7) % 300).padStart(4, '0')}`;
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) || 1}`;
    out.push(i % 2 ? `<38>${ts} ${host} sshd[${1000 + (i % 5000)}]: Accepted publickey for ${user} from ${ip} port ${20000 + (i % 40000)} ssh2`
      : `<30>${ts} ${host} systemd[1]: Started Session ${i} of user ${user}.`);
  }
  return out.join('\n');
}

async function perfChecks(browser) {
  const n = Number(process.env.PERF_EVENTS || 0);
  if (!n) {
    console.log('perf: skipped (PERF_EVENTS unset: timings under sanitizers mean nothing)');
    return;
  }
  const a = await login(ANALYST);
  const stored = async () => (await http('GET', '/api/v1/stats', {cookie: a.sid})).json?.pipeline?.stored ?? -1;
  const before = await stored();
  const t0 = Date.now();
  for (let off = 0; off < n; off += 100000) {
    const r = await fetch(`${URL0}/api/v1/ingest`, {method: 'POST', body: syslogLines(off, Math.min(n, off + 100000), n),
      headers: {'Content-Type': 'text/plain', Cookie: `vigie_session=${a.sid}`, 'X-CSRF-Token': a.csrf}});
    if (r.status !== 200) {
      check(`ingest ${n} events`, false, `${r.status} ${await r.text()}`);
      return;
    }
  }
  while ((await stored()) < before + n && Date.now() - t0 < 600000) await new Promise((res) => setTimeout(res, 250));
  const have = await stored();
  check(`${n} more events stored`, have >= before + n, `${have} < ${before + n}`);
  figures.push(`${n} syslog events ingested over HTTP and stored in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const ctx = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await ctx.newPage();
  await page.goto(`${URL0}/#/login`);
  await loaded(page, 'login');
  await page.fill('#login-user', ANALYST.user);
  await page.fill('#login-password', ANALYST.password);
  await page.click('form.login button[type=submit]');
  await loaded(page, 'overview');
  const loads = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await loaded(page, 'overview');
    loads.push(await page.evaluate(() => performance.getEntriesByName('vigie:overview-rendered')[0].startTime));
  }
  figures.push(`overview load with ${have} events stored: median ${median(loads).toFixed(0)} ms (${loads.map((x) => x.toFixed(0)).join(', ')})`);
  check(`the overview loads in under 1 s with ${have} events (median of 5)`, median(loads) < 1000, loads);
  await shot(page, '11-overview-1m');

  const queries = ['user.name:user0007', 'host.name:web-07 AND event.action:*', 'sshd', 'Accepted publickey'];
  const all = [];
  for (const q of queries) {
    const ms = [];
    let summary = '';
    for (let r = 0; r < 3; r++) {
      await page.goto(`${URL0}/#/overview`);
      await loaded(page, 'overview');
      const s0 = Date.now();
      await page.evaluate((x) => { location.hash = `#/search?q=${encodeURIComponent(x)}`; }, q);
      await page.waitForSelector('#results[data-state="done"]', {timeout: 30000});
      ms.push(Date.now() - s0);
      summary = (await page.textContent('#search-summary').catch(() => '')) || '';
      await page.waitForSelector('#histogram[data-state], #results p:not(#search-summary)', {timeout: 30000});
    }
    all.push(...ms);
    figures.push(`search "${q}" on ${have} events (route -> table rendered): median ${median(ms)} ms (${ms.join(', ')}); ${summary}`);
  }
  await shot(page, '12-search-1m');
  check(`a search result on ${have} events in under 500 ms (median of ${all.length})`, median(all) < 500, all);
  await ctx.close();
}

async function main() {
  const perfOnly = process.env.PERF_ONLY === '1';
  if (!perfOnly) await securityChecks();
  const browser = await launch();
  try {
    if (!perfOnly) await browserChecks(browser);
    await perfChecks(browser);
  } finally {
    await browser.close();
  }
  check(`the CSP header is on every API answer fetched outside the browser (${cspChecked})`, cspMissing.length === 0, cspMissing);
  console.log(`screenshots: ${ART}`);
}

run(main);
