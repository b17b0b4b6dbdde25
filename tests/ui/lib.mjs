// lib.mjs — what every browser script of tests/ui shares: the environment test_console.sh
// sets (VIGIE_URL, ARTIFACTS, UI_NODE_DIR, CHROMIUM, the users), playwright-core from the build
// directory, the ok/FAIL checks with their counts and figures, the page-loaded wait, and the
// browser launch and the script's end (figures, counts, exit status 1 on a failure).

import {createRequire} from 'node:module';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';

export function env(k) {
  const v = process.env[k];
  if (!v) throw new Error(`${process.argv[1]}: ${k} is not set`);
  return v;
}

export const URL0 = env('VIGIE_URL');
export const ART = env('ARTIFACTS');
export const ANALYST = {user: env('ANALYST_USER'), password: env('ANALYST_PW')};
export const READER = {user: env('READ_USER'), password: env('READ_PW')};
const require = createRequire(join(env('UI_NODE_DIR'), 'package.json'));
export const {chromium} = require('playwright-core');

export const figures = [];
const counts = {passed: 0, failed: 0};
export function check(name, cond, detail) {
  if (cond) {
    counts.passed++;
    console.log(`ok   ${name}`);
  } else {
    counts.failed++;
    console.log(`FAIL ${name}${detail !== undefined ? `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
  }
}

// The console marks #main with data-loaded="<page>" once a page has its data.
export const loaded = (page, what) => page.waitForSelector(`#main[data-loaded="${what}"]`, {timeout: 15000});
export const shot = (page, name) => page.screenshot({path: join(ART, `${name}.png`), fullPage: true});

// A browser context logged in as who ({user, password}) through the login page, on the overview.
// With problems (an array), script errors and console errors are collected in it, except those
// whose text matches expected (a RegExp: answers the test provokes on purpose, e.g. a 403).
export async function logIn(browser, who, {problems, expected} = {}) {
  const ctx = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await ctx.newPage();
  if (problems) {
    page.on('console', (m) => {
      if (m.type() === 'error' && !(expected && expected.test(m.text()))) {
        problems.push(`${m.text()} ${m.location() ? m.location().url : ''}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  }
  await page.goto(`${URL0}/#/login`);
  await loaded(page, 'login');
  await page.fill('#login-user', who.user);
  await page.fill('#login-password', who.password);
  await page.click('form.login button[type=submit]');
  await loaded(page, 'overview');
  return {ctx, page};
}

// Debian's chromium, headless (no sandbox as root: CI runs as root).
export function launch() {
  mkdirSync(ART, {recursive: true});
  const args = ['--disable-dev-shm-usage', '--disable-gpu'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({executablePath: env('CHROMIUM'), headless: true, args});
}

// Run main, then print the figures and the counts and exit (1 on a failure or an exception).
export function run(main) {
  main().then(() => {
    for (const f of figures) console.log(`figure: ${f}`);
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    process.exit(counts.failed ? 1 : 0);
  }, (e) => {
    console.log(`FAIL unexpected: ${e && e.stack ? e.stack : e}`);
    console.log(`${counts.passed} passed, ${counts.failed + 1} failed`);
    process.exit(1);
  });
}
