// pages_runs_fleet.mjs — the Playbooks, Fleet and Overview-extras pages of the console in
// headless Chromium, run by tests/ui/test_console.sh after console.mjs (same environment:
// VIGIE_URL, UI_NODE_DIR, CHROMIUM, ARTIFACTS, ANALYST_USER/_PW, READ_USER/_PW, RUN_ID,
// ADMIN_PW). By then console.mjs has approved RUN_ID's step. Checks:
//   - Playbooks: the shipped playbooks and the run RUN_ID listed; j/Enter opens a run; the run
//     detail shows each step's input and output and who approved; the run form refuses text
//     that is not a JSON object, runs a playbook on an alert, the new run waits for its
//     approval and is cancelled after a confirmation;
//   - Fleet: the empty state (the demo enables no fleet listener) says how to enrol, or the
//     agents are listed;
//   - Overview: the ATT&CK heat map, top entities and ingest health render; the main data's
//     mark still comes first and fast;
//   - a read-only user sees Run, approve/deny and cancel disabled;
//   - no script error and no CSP violation in the browser.
// Prints "ok NAME" / "FAIL NAME" per check and "figure: ..." lines; exits 1 on a failure.

import {join} from 'node:path';
import {ANALYST, ART, check, env, figures, launch, loaded, logIn, READER, run, shot, URL0} from './lib.mjs';
const RUN_ID = env('RUN_ID');


const session = (browser, who, problems) => logIn(browser, who, {problems});

async function runsChecks(page) {
  await page.keyboard.press('g');
  await page.keyboard.press('p');
  await loaded(page, 'runs');
  check('g p opens Playbooks', page.url().endsWith('#/runs'), page.url());
  const ids = await page.$$eval('tr.pb-row', (rs) => rs.map((r) => r.dataset.id));
  check('the playbooks are listed (the shipped ones)', ids.includes('malware-quarantine-isolate') && ids.includes('ssh-bruteforce-block'), ids);
  const trig = (await page.textContent('tr.pb-row[data-id="malware-quarantine-isolate"]')) || '';
  check('a playbook shows its triggers and steps', trig.includes('attack.t1204') && trig.includes('5'), trig);
  check(`the run ${RUN_ID} is in the history`, await page.locator(`#main tr[data-nav][data-id="${RUN_ID}"]`).count() === 1);
  const order = await page.$$eval('#main tr[data-nav]', (rs) => rs.map((r) => r.dataset.id));
  const nums = order.map((x) => Number(String(x).replace(/\D/g, '')));
  check('runs are newest first', nums.every((n, i) => i === 0 || nums[i - 1] >= n), order);
  await shot(page, '21-runs');

  // keyboard: j selects the first run, Enter opens it, Escape goes back
  await page.keyboard.press('j');
  const first = await page.getAttribute('#main tr[data-nav].selected', 'data-id');
  await page.keyboard.press('Enter');
  await loaded(page, 'run');
  check('j / Enter open the newest run', page.url().endsWith(`#/runs/${first}`), page.url());
  await page.keyboard.press('Escape');
  await loaded(page, 'runs');

  // RUN_ID's detail: steps with input and output, the approval decided by the analyst
  await page.click(`#main tr[data-nav][data-id="${RUN_ID}"] a`);
  await loaded(page, 'run');
  const caseIn = (await page.textContent('li.step[data-step="case"] pre.step-input')) || '';
  const caseOut = (await page.textContent('li.step[data-step="case"] pre.step-output')) || '';
  check('the run detail shows a step\'s input (pretty JSON)', caseIn.includes('"title": "Malware on WS-FIN-07') && caseIn.includes('\n'), caseIn);
  check('the run detail shows a step\'s output', /"case_id": \d+/.test(caseOut), caseOut);
  const steps = await page.$$eval('li.step', (ls) => ls.map((l) => `${l.dataset.step}:${l.dataset.status}`));
  check('every step is listed with its status', steps.length >= 2 && steps.some((s) => s.startsWith('approve-containment:')), steps);
  const appr = (await page.textContent('tr.approval[data-step="approve-containment"]')) || '';
  check('the approval shows who approved it and the comment', appr.includes('approved') && appr.includes(`user:${ANALYST.user}`) &&
    appr.includes('approved from the browser test'), appr);
  await shot(page, '22-run-detail');

  // the run form: validation errors, then a run
  await page.goto(`${URL0}/#/runs`);
  await loaded(page, 'runs');
  await page.click('button[data-action="run"][data-playbook="malware-quarantine-isolate"]');
  check('Run… on a playbook selects it in the form and focuses the alert',
    await page.inputValue('#run-playbook') === 'malware-quarantine-isolate' && await page.evaluate(() => document.activeElement.id) === 'run-alert');
  await page.fill('#run-alert', '{"host": {"name": ');
  await page.click('form.runform button[type=submit]');
  await page.waitForFunction(() => document.getElementById('run-error').textContent !== '');
  check('text that is not JSON is refused with a message', (await page.textContent('#run-error')).includes('not valid JSON'), await page.textContent('#run-error'));
  await page.fill('#run-alert', '[1, 2]');
  await page.click('form.runform button[type=submit]');
  await page.waitForFunction(() => document.getElementById('run-error').textContent.includes('object'));
  check('a JSON value that is not an object is refused', page.url().endsWith('#/runs'));
  const runsBefore = await page.locator('#main tr[data-nav]').count();
  await page.fill('#run-alert', JSON.stringify({host: {name: 'WS-UI-42'}, rule: {name: 'Dropper seen by the UI test <b>x</b>'}, level: 'high'}));
  await page.click('form.runform button[type=submit]');
  await page.waitForFunction(() => /^#\/runs\/r-\d+$/.test(location.hash));
  await loaded(page, 'run');
  const newRun = page.url().split('/').pop();
  check('Run starts a run and opens it', newRun !== RUN_ID && runsBefore >= 1, newRun);
  await page.waitForFunction(() => true);
  // it waits for the approval (reload until the engine got there)
  for (let i = 0; i < 50 && await page.locator('li.step[data-step="approve-containment"]').count() === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await page.reload();
    await loaded(page, 'run');
  }
  check('the new run waits for its approval (decision form and a link to Approvals)',
    await page.locator('.card[data-step="approve-containment"] button[data-action="approve"]:not([disabled])').count() === 1 &&
    await page.locator('.badges a.awaiting[href="#/approvals"]').count() === 1);
  check('markup in the alert stays text', (await page.textContent('li.step[data-step="case"] pre.step-input')).includes('<b>x</b>') &&
    await page.locator('li.step b').count() === 0);
  await page.goto(`${URL0}/#/runs`);
  await loaded(page, 'runs');
  check('a run waiting for an approval is highlighted with a link to Approvals',
    await page.locator(`tr.run-pending[data-id="${newRun}"] a.awaiting[href="#/approvals"]`).count() === 1 &&
    await page.locator('#runs-pending a[href="#/approvals"]').count() === 1);
  return newRun;
}

async function cancelCheck(page, run) {
  await page.goto(`${URL0}/#/runs/${run}`);
  await loaded(page, 'run');
  await page.click('button[data-action="cancel"]');
  check('cancel asks for a confirmation first', await page.locator('.confirm:not([hidden]) button[data-action="confirm-cancel"]').count() === 1 &&
    (await page.textContent('.badges')).includes('running'));
  await page.click('button[data-action="confirm-cancel"]');
  if (!await page.waitForSelector('.badges .st-cancelled', {timeout: 10000}).then(() => true, () => false)) {
    await page.reload(); // the page shows what the server answered after its wait: read again
    await loaded(page, 'run');
  }
  check('a confirmed cancel ends the run (status cancelled)', await page.locator('.badges .st-cancelled').count() === 1,
    await page.textContent('.badges'));
  check('an ended run cannot be cancelled again', await page.locator('button[data-action="cancel"][disabled]').count() === 1);
}

async function fleetChecks(page) {
  await page.keyboard.press('g');
  await page.keyboard.press('f');
  await loaded(page, 'fleet');
  const agents = await page.locator('#main tr[data-nav]').count();
  if (agents) {
    check('the fleet lists the agents', (await page.textContent('#fleet-count')).includes(`${agents} agent`));
  } else {
    const text = (await page.textContent('#main')) || '';
    check('the fleet page shows an empty state that says how to enrol', await page.locator('#fleet-empty').count() === 1 &&
      text.includes('vigie-agent enroll --server') && text.includes('/api/v1/agents/enroll-tokens'), text.slice(0, 300));
  }
  await shot(page, '23-fleet');
}

async function overviewChecks(page) {
  await page.goto(`${URL0}/#/overview`);
  await loaded(page, 'overview');
  const loads = [];
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await loaded(page, 'overview');
    loads.push(await page.evaluate(() => performance.getEntriesByName('vigie:overview-rendered')[0].startTime));
  }
  figures.push(`overview with the extras: navigation start -> data rendered ${loads.map((x) => x.toFixed(0)).join(', ')} ms`);
  check('the overview still renders its data in under 1 s', Math.min(...loads) < 1000, loads);
  await page.waitForSelector('#ov-events[data-state="done"]', {timeout: 15000});
  const ev = await page.textContent('#ov-events');
  check('the overview charts the events of the last 24 hours with their rate', /\d+ events; busiest \d+ min: [\d.]+ events\/s/.test(ev) &&
    await page.locator('#ov-events svg.chart rect.bar').count() > 0, ev);
  const techs = await page.$$eval('#ov-attack table.heatmap tbody tr', (rs) => rs.map((r) => r.dataset.technique));
  check('the ATT&CK heat map lists the demo alerts\' techniques', techs.includes('T1110.001') && techs.includes('T1078'), techs);
  const cols = await page.$$eval('#ov-attack thead th', (ths) => ths.map((t) => t.textContent));
  check('its columns are tactics in matrix order', cols.includes('credential access') && cols.indexOf('initial access') < cols.indexOf('credential access'), cols);
  const cell = await page.$$eval('#ov-attack tr[data-technique="T1110.001"] td.heat', (tds) => tds.map((t) => `${t.className}=${t.textContent}`));
  check('a technique counted under its tactic is coloured by class (heat-1..4) with its count',
    cell.some((c) => /heat-[1-4]=\d+/.test(c)), cell);
  check('the heat map is a table with row and column headers', await page.locator('#ov-attack th[scope="row"]').count() === techs.length &&
    await page.locator('#ov-attack caption').count() === 1);
  const hosts = (await page.textContent('#ov-entities [data-field="host.name"]')) || '';
  const ips = (await page.textContent('#ov-entities [data-field="source.ip"]')) || '';
  check('top entities: hosts and source IPs of the alerts', hosts.includes('bastion') && ips.includes('198.51.100.23'), `${hosts} | ${ips}`);
  const link = await page.getAttribute('#ov-entities [data-field="source.ip"] a', 'href');
  check('an entity links to a search of its field', decodeURIComponent((link || '').replace(/\+/g, ' ')).includes('source.ip:"'), link);
  await page.waitForSelector('#ov-agents [data-state="done"], #ov-agents span[data-state="done"]', {timeout: 10000}).catch(() => null);
  const ingest = (await page.textContent('#ov-ingest')) || '';
  check('ingest health: backlog, unparsed, per-input counters and agents online',
    ingest.includes('Pipeline backlog') && ingest.includes('Unparsed') && await page.locator('#ov-ingest table tbody tr').count() >= 1 &&
    /Agents online(fleet not enabled|\d+ of \d+)/.test(ingest), ingest.slice(0, 400));
  await page.locator('#ov-attack').scrollIntoViewIfNeeded();
  await shot(page, '24-overview-extras');
}

async function readOnlyChecks(browser, run, problems) {
  const {ctx, page} = await session(browser, READER, problems);
  await page.goto(`${URL0}/#/runs`);
  await loaded(page, 'runs');
  const runBtns = await page.locator('button[data-action="run"]').count();
  check('a read-only user sees every Run button disabled', runBtns > 0 && await page.locator('button[data-action="run"][disabled]').count() === runBtns &&
    await page.locator('form.runform button[type=submit][disabled]').count() === 1 && await page.locator('#run-alert[disabled]').count() === 1);
  await page.goto(`${URL0}/#/runs/${run}`);
  await loaded(page, 'run');
  check('a read-only user sees cancel, approve and deny disabled on a running run',
    (await page.textContent('.badges')).includes('running') &&
    await page.locator('button[data-action="cancel"][disabled]').count() === 1 &&
    await page.locator('button[data-action="approve"][disabled]').count() === 1 &&
    await page.locator('button[data-action="deny"][disabled]').count() === 1);
  await shot(page, '25-run-read-only');
  await ctx.close();
}

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const {ctx, page} = await session(browser, ANALYST, problems);
    const run = await runsChecks(page);
    await readOnlyChecks(browser, run, problems);
    await cancelCheck(page, run);
    await fleetChecks(page);
    await overviewChecks(page);
    await ctx.close();
    check('no CSP violation or script error in the browser', problems.length === 0, problems);
  } finally {
    await browser.close();
  }
}

run(main);
