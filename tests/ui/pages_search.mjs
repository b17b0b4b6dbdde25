// pages_search.mjs — the Search page's extras in headless Chromium, run by tests/ui/test_console.sh
// after console.mjs against the same `vigie server --demo` (same environment). Field-name
// autocompletion in the query box (an ARIA combobox: the list, arrow keys, Enter / Tab to accept,
// Escape to close, the pipes after '|'), a query built with it and run; saved searches (save,
// reload, run from the list, per user, delete); CSV and JSON export of events and of an
// aggregation (the downloaded files parsed back), RFC 4180 quoting. Prints "ok NAME" /
// "FAIL NAME", exits 1 on a failure; screenshots 41-search-complete.png, 42-saved.png.

import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {ANALYST, ART, READER, URL0, check, env, figures, launch, loaded, run, shot} from './lib.mjs';

// RFC 4180 CSV → rows (quoted fields with "" and line breaks; CRLF or LF line ends)
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') { /* CRLF */ } else if (c === '\n') {
      row.push(f); rows.push(row); row = []; f = '';
    } else f += c;
  }
  if (f !== '' || row.length) { row.push(f); rows.push(row); }
  return rows;
}

const done = (page) => page.waitForSelector('#results[data-state="done"]', {timeout: 15000});

async function logIn(page, who) {
  await page.goto(`${URL0}/#/login`);
  await loaded(page, 'login');
  await page.fill('#login-user', who.user);
  await page.fill('#login-password', who.password);
  await page.click('form.login button[type=submit]');
  await loaded(page, 'overview');
}

const options = (page) => page.$$eval('#search-suggest:not([hidden]) [role="option"]', (os) => os.map((o) => o.dataset.value));

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', {timeout: 10000}), page.click(selector)]);
  const file = await dl.path();
  return {name: dl.suggestedFilename(), text: readFileSync(file, 'utf8')};
}

async function autocompletion(page) {
  await page.goto(`${URL0}/#/search`);
  await loaded(page, 'search');
  const box = page.locator('#search-q');
  check('the query box is an ARIA combobox controlling a listbox',
    (await box.getAttribute('role')) === 'combobox' && (await box.getAttribute('aria-controls')) === 'search-suggest' &&
    (await box.getAttribute('aria-expanded')) === 'false' && (await page.getAttribute('#search-suggest', 'role')) === 'listbox');
  await box.click();
  const t0 = Date.now();
  await page.keyboard.type('host.na');
  // the field list of the session's sample arrives once; the suggestions follow it
  await page.waitForFunction(() => [...document.querySelectorAll('#search-suggest [role="option"]')].some((o) => o.dataset.value === 'host.name'), null, {timeout: 10000});
  figures.push(`autocompletion: "host.na" typed -> host.name offered in ${Date.now() - t0} ms (first use: the field sample is fetched)`);
  const opts = await options(page);
  check('typing "host.na" offers host.name in the list under the box', opts.includes('host.name') && (await box.getAttribute('aria-expanded')) === 'true', opts);
  await shot(page, '41-search-complete');
  const cached = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('vigie.search-fields.')));
  check('the sampled field names are cached for the session (sessionStorage)', cached.length === 1, cached);
  // Arrow Down highlights (aria-activedescendant), Enter accepts
  let i = 0;
  do {
    await page.keyboard.press('ArrowDown');
    i++;
  } while (i < 12 && (await page.$eval('#search-suggest [aria-selected="true"]', (o) => o.dataset.value).catch(() => '')) !== 'host.name');
  const ad = await box.getAttribute('aria-activedescendant');
  check('Arrow Down highlights an option (aria-selected, aria-activedescendant)',
    !!ad && (await page.getAttribute(`#${ad}`, 'aria-selected')) === 'true' && (await page.getAttribute(`#${ad}`, 'data-value')) === 'host.name', ad);
  await page.keyboard.press('Enter');
  check('Enter accepts it: "host.name:" and the list closes, nothing run',
    (await box.inputValue()) === 'host.name:' && (await box.getAttribute('aria-expanded')) === 'false' &&
    (await page.getAttribute('#results', 'data-state')) === 'idle', await box.inputValue());
  await page.keyboard.type('bastion event.mo');
  await page.waitForFunction(() => !document.getElementById('search-suggest').hidden);
  const opts2 = await options(page);
  await page.keyboard.press('Escape');
  check('Escape closes the list and keeps the focus and the text',
    (await box.getAttribute('aria-expanded')) === 'false' && await page.evaluate(() => document.activeElement?.id === 'search-q') &&
    (await box.inputValue()) === 'host.name:bastion event.mo', opts2);
  await page.keyboard.press('ArrowDown');
  check('Arrow Down opens it again', (await box.getAttribute('aria-expanded')) === 'true');
  await page.keyboard.press('Escape');
  await page.keyboard.type('d');
  await page.keyboard.press('Tab');
  check('Tab accepts the first option (event.module)', (await box.inputValue()) === 'host.name:bastion event.module:', await box.inputValue());
  // after a pipe: the pipes, then fields after "by"
  await box.fill('');
  await page.keyboard.type('sshd | ');
  await page.waitForFunction(() => !document.getElementById('search-suggest').hidden);
  const pipes = await options(page);
  check('after "|" the list offers the pipes (stats count by, top, timechart)',
    ['stats count by', 'top', 'timechart count'].every((p) => pipes.includes(p)), pipes);
  await page.keyboard.press('Escape');
  await page.keyboard.type('stats count by sour');
  await page.waitForFunction(() => !document.getElementById('search-suggest').hidden);
  await page.keyboard.press('Tab');
  check('in a pipe a field is completed without ":" (stats count by source.ip)', (await box.inputValue()) === 'sshd | stats count by source.ip', await box.inputValue());
  // keywords, and the query built with the list run with Enter
  await box.fill('');
  await page.keyboard.type('host.na');
  await page.waitForFunction(() => !document.getElementById('search-suggest').hidden);
  await page.keyboard.press('Tab');
  await page.keyboard.type('bastion AN');
  await page.waitForFunction(() => !document.getElementById('search-suggest').hidden);
  check('upper-case keywords are offered (AN → AND)', (await options(page))[0] === 'AND', await options(page));
  await page.keyboard.press('Tab');
  await page.keyboard.type('event.module:sshd');
  const t1 = Date.now();
  await page.keyboard.press('Enter');
  await done(page);
  figures.push(`search "host.name:bastion AND event.module:sshd" (Enter -> table rendered): ${Date.now() - t1} ms`);
  const rows = await page.locator('#results tbody tr[data-nav]').count();
  check('the completed query runs: host.name:bastion AND event.module:sshd', rows > 0 &&
    (await box.inputValue()) === 'host.name:bastion AND event.module:sshd', `${rows} rows, ${await box.inputValue()}`);
  return rows;
}

async function savedSearches(page) {
  await page.selectOption('#search-from', '-30d');
  await page.click('#main form[role="search"] button[type="submit"]');
  await page.waitForFunction(() => location.hash.includes('from=-30d') && document.getElementById('results')?.dataset.state === 'done');
  await page.fill('#search-save-name', 'bastion sshd');
  await page.click('#search-save');
  await page.waitForSelector('#saved-searches li[data-name="bastion sshd"]');
  const stored = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('vigie.saved-searches.')));
  check('Save keeps name, query and time range in localStorage under a per-user key',
    stored.length === 1 && /\/alice$/.test(stored[0][0]) && JSON.parse(stored[0][1])[0].q === 'host.name:bastion AND event.module:sshd' &&
    JSON.parse(stored[0][1])[0].from === '-30d', stored);
  // a second one, then a reload: both listed; one runs from the list
  await page.fill('#search-q', 'sshd | top source.ip');
  await page.fill('#search-save-name', 'top sources');
  await page.click('#search-save');
  await page.waitForSelector('#saved-searches li[data-name="top sources"]');
  await page.goto(`${URL0}/#/search`);
  await page.reload();
  await loaded(page, 'search');
  const names = await page.$$eval('#saved-searches li', (ls) => ls.map((l) => l.dataset.name));
  check('after a reload the saved searches are listed', names.includes('bastion sshd') && names.includes('top sources'), names);
  await page.click('#saved-searches li[data-name="bastion sshd"] a');
  await done(page);
  check('a click on a saved search runs it with its time range',
    (await page.inputValue('#search-q')) === 'host.name:bastion AND event.module:sshd' && (await page.inputValue('#search-from')) === '-30d' &&
    await page.locator('#results tbody tr[data-nav]').count() > 0, await page.inputValue('#search-q'));
  await shot(page, '42-saved');
}

async function exports(page, rows) {
  const csv = await download(page, '#export-csv');
  const c = parseCsv(csv.text);
  check('Export CSV downloads a .csv with a header and one row per event shown',
    /^vigie-search-\d{8}T\d{6}\.csv$/.test(csv.name) &&
    c[0].join(',') === '@timestamp,host.name,user.name,source.ip,event.action,event.outcome,message' && c.length === rows + 1 &&
    c.slice(1).every((r) => r.length === 7 && r[1] === 'bastion') && csv.text.includes('\r\n'), {name: csv.name, head: csv.text.slice(0, 300)});
  check('the CSV rows hold the messages (sshd lines)', c.slice(1).some((r) => /password|publickey/i.test(r[6])), c[1]);
  const title = await page.getAttribute('#export-csv', 'title');
  check('the export buttons say the limit (200) in their title', /200/.test(title) && /200/.test(await page.getAttribute('#export-json', 'title')), title);
  const json = await download(page, '#export-json');
  let j = null;
  try {
    j = JSON.parse(json.text);
  } catch {
    j = null;
  }
  check('Export JSON downloads the events with every field', /\.json$/.test(json.name) && Array.isArray(j) && j.length === rows &&
    j.every((e) => e['host.name'] === 'bastion' && e['@timestamp'] && e['event.module']), json.text.slice(0, 200));
  // RFC 4180 quoting and the formula guard, through the page's own module
  const quoted = await page.evaluate(async () => (await import('/ui/search.js')).toCsv([['a', 'b,c', 'say "hi"', 'two\nlines', '=1+1', '-5', null]]));
  check('CSV quoting follows RFC 4180 (comma, quote, line break) and defuses formulas',
    quoted === 'a,"b,c","say ""hi""","two\nlines",\'=1+1,-5,\r\n', quoted);
  // an aggregation: its table
  await page.fill('#search-q', 'sshd | stats count by source.ip');
  await page.press('#search-q', 'Enter');
  await page.waitForFunction(() => document.getElementById('results')?.dataset.state === 'done' && document.querySelector('#results table'));
  const n = await page.locator('#results tbody tr').count();
  const acsv = parseCsv((await download(page, '#export-csv')).text);
  check('an aggregation exports its table as CSV (its columns as header)', acsv[0].join(',') === 'source.ip,count' && acsv.length === n + 1 &&
    acsv.some((r) => r[0] === '198.51.100.23'), acsv.slice(0, 3));
  const ajson = JSON.parse((await download(page, '#export-json')).text);
  check('and as JSON (one object per row)', Array.isArray(ajson) && ajson.length === n && 'source.ip' in ajson[0] && 'count' in ajson[0], ajson[0]);
}

async function perUser(page) {
  // delete one, then another user in the same browser sees none of alice's
  await page.goto(`${URL0}/#/search`);
  await loaded(page, 'search');
  await page.click('#saved-searches li[data-name="top sources"] button.saved-del');
  await page.waitForFunction(() => !document.querySelector('#saved-searches li[data-name="top sources"]'));
  const left = await page.$$eval('#saved-searches li', (ls) => ls.map((l) => l.dataset.name));
  check('the delete button removes a saved search', left.length === 1 && left[0] === 'bastion sshd', left);
  await page.click('#logout');
  await loaded(page, 'login');
  await logIn(page, READER);
  await page.goto(`${URL0}/#/search`);
  await loaded(page, 'search');
  check('saved searches are per user: rita sees none of alice\'s in the same browser',
    await page.locator('#saved-searches li').count() === 0 && (await page.textContent('#saved-h')).includes('(0)'));
}

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const ctx = await browser.newContext({viewport: {width: 1440, height: 900}, acceptDownloads: true});
    const page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0134]/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await logIn(page, ANALYST);
    const rows = await autocompletion(page);
    await savedSearches(page);
    await exports(page, rows);
    await perUser(page);
    await ctx.close();
  } finally {
    await browser.close();
  }
  check('no CSP violation or script error on the Search page', problems.length === 0, problems);
}

run(main);
