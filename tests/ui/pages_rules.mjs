// pages_rules.mjs — the Rules page in headless Chromium, run by tests/ui/test_console.sh after
// console.mjs against the same `vigie server --demo` (same environment, plus ADMIN_PW for the
// user "admin"). The list with the demo's hits, the filter, a pasted rule tested against the
// demo's sshd events, an exception backtested then created and deleted, disable / enable and a
// custom rule saved (disabled) as admin, and a read-only user who sees every action disabled;
// the API refuses the changes to non-admins. Prints "ok NAME" / "FAIL NAME", exits 1 on a
// failure; screenshots 31-rules.png, 32-rule-test.png.

import {join} from 'node:path';
import {ANALYST, ART, check, env, figures, launch, loaded, logIn, READER, run, shot, URL0} from './lib.mjs';
const ADMIN = {user: 'admin', password: env('ADMIN_PW')};

const WHOAMI = '6b0c1a9e-7a39-4c8a-9f0e-3d1c2b4a5e02'; // a demo rule with a hit
const TEST_ID = '0c7e8f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const SSHD_RULE = `title: UI test - sshd failed password
id: ${TEST_ID}
logsource:
  product: linux
  service: sshd
detection:
  sel:
    message|contains: Failed password
  condition: sel
level: low
tags:
  - attack.credential_access
  - attack.t1110.001
`;


async function http(method, path, {cookie, csrf, body, raw} = {}) {
  const h = {};
  if (cookie) h.Cookie = `vigie_session=${cookie}`;
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (raw !== undefined) h['Content-Type'] = 'application/yaml';
  const res = await fetch(URL0 + path, {method, headers: h, body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body)});
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {status: res.status, json, text};
}

async function apiLogin(who) {
  const r = await fetch(`${URL0}/api/v1/auth/login`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(who)});
  const m = /vigie_session=([^;]*)/.exec(r.headers.get('set-cookie') || '');
  const j = await r.json();
  return {sid: m ? m[1] : null, csrf: j.csrf_token};
}

async function apiChecks() {
  const ro = await apiLogin(READER);
  const an = await apiLogin(ANALYST);
  const changes = [
    ['POST', '/api/v1/rules/test', {rule: SSHD_RULE}],
    ['POST', `/api/v1/rules/${WHOAMI}/disable`, {}],
    ['POST', `/api/v1/rules/${WHOAMI}/enable`, {}],
    ['PUT', '/api/v1/rules/custom/by-reader', {rule: SSHD_RULE}],
    ['DELETE', '/api/v1/rules/custom/by-reader', undefined],
  ];
  const allowed = [];
  for (const [m, p, b] of changes) {
    const x = await http(m, p, {cookie: ro.sid, csrf: ro.csrf, body: b});
    if (x.status !== 403) allowed.push(`${m} ${p} ${x.status}`);
  }
  check(`a read-only user gets 403 on every rule change (${changes.length})`, allowed.length === 0, allowed);
  const anAllowed = [];
  for (const [m, p, b] of changes.slice(1)) {
    const x = await http(m, p, {cookie: an.sid, csrf: an.csrf, body: b});
    if (x.status !== 403) anAllowed.push(`${m} ${p} ${x.status}`);
  }
  check('an analyst gets 403 on disable, enable and custom rules (admin only)', anAllowed.length === 0, anAllowed);
  const none = await http('POST', `/api/v1/rules/${WHOAMI}/disable`, {});
  check('a rule change without a session answers 401', none.status === 401, none.status);
  const bad = await http('POST', '/api/v1/rules/test', {cookie: an.sid, csrf: an.csrf, body: {rule: 'title: [\n'}});
  check('a rule that does not compile answers 400 naming the line', bad.status === 400 && /line 2/.test(bad.json?.error?.message || ''), bad.text);
  const rules = await http('GET', '/api/v1/rules', {cookie: ro.sid});
  check('nothing changed: the demo rule is still enabled', (rules.json?.rules || []).some((r) => r.id === WHOAMI && r.enabled === true), rules.status);
  for (const s of [ro, an]) await http('POST', '/api/v1/auth/logout', {cookie: s.sid, csrf: s.csrf});
}


const browserLogin = (browser, who, problems) => logIn(browser, who, {problems, expected: /status of 40[0134]/});

const rowHits = async (page) => page.$$eval('#rules-list tbody tr', (rows) => rows.map((r) => Number(r.children[4].textContent)));

async function analystChecks(browser, problems) {
  const {ctx, page} = await browserLogin(browser, ANALYST, problems);
  const t0 = Date.now();
  await page.keyboard.press('g');
  await page.keyboard.press('r');
  await loaded(page, 'rules');
  figures.push(`rules page: g r -> list rendered in ${Date.now() - t0} ms`);
  const n = await page.locator('#rules-list tbody tr').count();
  check('the Rules page lists the built-in and demo rules', n >= 100, n);
  const hits = await rowHits(page);
  check('sorted by hits: the demo rules with alerts first, descending', hits[0] >= 1 && hits.every((h, i) => i === 0 || h <= hits[i - 1]), hits.slice(0, 8));
  const top = await page.$$eval('#rules-list tbody tr', (rows) => rows.slice(0, 8).map((r) => r.textContent));
  check('rows show their level, ATT&CK techniques and source', /(informational|low|medium|high|critical)/.test(top[0]) && top.some((t) => /T\d{4}/.test(t)), top[0]);
  await shot(page, '31-rules');
  // sort by FP ratio and back, then the filter box
  await page.click('#rules-list button[data-sort="fp"]');
  check('a column header sorts by false-positive ratio', (await page.inputValue('#rules-sort')) === 'fp');
  await page.selectOption('#rules-sort', 'hits');
  await page.keyboard.press('/');
  await page.keyboard.type('T1110');
  const filtered = await page.$$eval('#rules-list tbody tr', (rows) => rows.map((r) => r.textContent));
  check('the filter box narrows the list (T1110)', filtered.length > 0 && filtered.length < n && filtered.every((t) => t.includes('T1110')), filtered.length);
  await page.fill('#rules-q', '');
  await page.dispatchEvent('#rules-q', 'input');

  // test a pasted rule against the demo's sshd events
  await page.fill('#rule-yaml', SSHD_RULE);
  const t1 = Date.now();
  await page.click('#rule-test');
  await page.waitForSelector('#rule-test-summary, #rule-test-result .error', {timeout: 15000});
  const summary = (await page.textContent('#rule-test-result')) || '';
  const ms = Date.now() - t1;
  figures.push(`rule test (click -> matches shown): ${ms} ms; ${(await page.textContent('#rule-test-summary').catch(() => '')) || summary.slice(0, 80)}`);
  const m = /(\d+) of (\d+) events matched/.exec(summary);
  check('testing a pasted rule shows the demo sshd events it matches', m && Number(m[1]) > 0 && summary.includes('Failed password'), summary.slice(0, 200));
  check('an analyst may test but not save a custom rule', await page.locator('#rule-save[disabled]').count() === 1);
  const listed = await page.evaluate(async (id) => (await (await fetch('/api/v1/rules')).json()).rules.some((r) => r.id === id), TEST_ID);
  check('testing enables nothing (the rule is not in the list)', !listed);
  await shot(page, '32-rule-test');

  // exceptions: backtest first, then create, then delete
  await page.fill('#exc-rule', WHOAMI);
  await page.fill('#exc-reason', 'browser test');
  await page.fill('#exc-expires', '1h');
  check('Create waits for a backtest', await page.locator('#exc-create[disabled]').count() === 1);
  await page.click('#exc-test');
  await page.waitForFunction(() => /Would have suppressed|error/.test(document.getElementById('exc-backtest')?.textContent || ''));
  const bt = await page.textContent('#exc-backtest');
  check('the backtest says how many past alerts the exception would have suppressed', /Would have suppressed [1-9]\d* of \d+ alerts/.test(bt), bt);
  await page.click('#exc-create');
  await page.waitForFunction(() => /^Exception \d+ created/.test(document.getElementById('notice').textContent));
  const excId = /Exception (\d+)/.exec(await page.textContent('#notice'))[1];
  await loaded(page, 'rules');
  check('the exception is created and listed', (await page.textContent('#rules-exc-h')).match(/\((\d+)\)/)[1] >= 1 &&
    (await page.textContent('section[aria-labelledby="rules-exc-h"] table')).includes('browser test'));
  const row = page.locator('section[aria-labelledby="rules-exc-h"] tbody tr', {hasText: 'browser test'});
  await row.locator('button.danger').click();
  await page.waitForFunction((id) => document.getElementById('notice').textContent === `Exception ${id} deleted.`, excId);
  check('the exception is deleted', true);
  await ctx.close();
}

async function adminChecks(browser, problems) {
  const {ctx, page} = await browserLogin(browser, ADMIN, problems);
  await page.goto(`${URL0}/#/rules`);
  await loaded(page, 'rules');
  const api = (id) => page.evaluate(async (x) => (await (await fetch('/api/v1/rules')).json()).rules.find((r) => r.id === x), id);
  const btn = page.locator(`#rules-list button.rule-toggle[data-rule="${WHOAMI}"]`);
  check('an admin of "default" sees Disable enabled', (await btn.textContent()) === 'Disable' && !(await btn.isDisabled()));
  await btn.click();
  await page.waitForFunction(() => /disabled\.$/.test(document.getElementById('notice').textContent));
  await loaded(page, 'rules');
  const off = await api(WHOAMI);
  check('Disable: the rule is listed disabled (enabled: false) and its row says so',
    off && off.enabled === false && (await page.locator(`#rules-list button.rule-toggle[data-rule="${WHOAMI}"]`).textContent()) === 'Enable', off);
  await page.locator(`#rules-list button.rule-toggle[data-rule="${WHOAMI}"]`).click();
  await page.waitForFunction(() => /enabled\.$/.test(document.getElementById('notice').textContent));
  const on = await api(WHOAMI);
  check('Enable: the rule is back in force', on && on.enabled === true, on);

  // a custom rule: test, then save (disabled), listed, then removed through the API
  await loaded(page, 'rules');
  await page.fill('#rule-yaml', SSHD_RULE);
  await page.click('#rule-test');
  await page.waitForSelector('#rule-test-summary');
  await page.fill('#rule-name', 'ui-test-sshd');
  await page.check('#rule-save-disabled');
  await page.click('#rule-save');
  await page.waitForFunction(() => /^Saved custom rule ui-test-sshd/.test(document.getElementById('notice').textContent));
  const saved = await api(TEST_ID);
  check('Save as custom rule (disabled) adds it to the list, disabled', saved && saved.enabled === false && /rules-custom\/ui-test-sshd\.yml$/.test(saved.path), saved);
  const del = await page.evaluate(async () => (await fetch('/api/v1/rules/custom/ui-test-sshd', {method: 'DELETE',
    headers: {'X-CSRF-Token': sessionStorage.getItem('vigie.csrf')}})).status);
  check('the custom rule is deleted (DELETE /api/v1/rules/custom/{name})', del === 200 && !(await api(TEST_ID)), del);
  const audit = await page.evaluate(async () => (await (await fetch('/api/v1/audit?limit=20')).json()).records.map((r) => `${r.action} ${r.actor}`));
  check('the changes are in the audit log by user:admin',
    ['rule.disable', 'rule.enable', 'rule.custom.put', 'rule.custom.delete'].every((a) => audit.includes(`${a} user:admin`)), audit);
  await ctx.close();
}

async function readerChecks(browser, problems) {
  const {ctx, page} = await browserLogin(browser, READER, problems);
  await page.goto(`${URL0}/#/rules`);
  await loaded(page, 'rules');
  const toggles = await page.locator('#rules-list button.rule-toggle').count();
  const disabled = await page.locator('#rules-list button.rule-toggle[disabled]').count();
  check('a read-only user sees every rule action disabled', toggles > 0 && toggles === disabled &&
    await page.locator('#rule-test[disabled]').count() === 1 && await page.locator('#rule-save[disabled]').count() === 1 &&
    await page.locator('#exc-test[disabled]').count() === 1, `${disabled}/${toggles}`);
  await ctx.close();
}

async function main() {
  await apiChecks();
  const browser = await launch();
  const problems = [];
  try {
    await analystChecks(browser, problems);
    await adminChecks(browser, problems);
    await readerChecks(browser, problems);
  } finally {
    await browser.close();
  }
  check('no CSP violation or script error on the Rules page', problems.length === 0, problems);
}

run(main);
