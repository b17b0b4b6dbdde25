// pages_users.mjs — the console's Users & tokens page (web/users.js) in headless Chromium,
// run by tests/ui/test_console.sh after console.mjs against the same `vigie server --demo`.
// As admin (ADMIN_PW): add user bob (analyst), create a token whose secret is shown once and
// works against GET /api/v1/stats with a Bearer header (node's fetch), revoke it (then 401),
// change bob's role to read, delete bob. As alice (analyst): the page is read-only with a
// notice and the API refuses her (403). Same environment and output conventions as console.mjs.

import {ANALYST, check, env, launch, loaded, logIn, run, shot, URL0} from './lib.mjs';

const ADMIN = {user: 'admin', password: env('ADMIN_PW')};


// Wait until the page re-rendered after a change and says so (or shows an error).
async function changed(page, want) {
  await page.waitForFunction((w) => {
    const m = document.querySelector('#users-msg');
    return m && (m.textContent.includes(w) || m.dataset.state === 'error');
  }, want, {timeout: 15000});
  return page.textContent('#users-msg');
}

const bearer = async (tok) => (await fetch(`${URL0}/api/v1/stats`, {headers: {Authorization: `Bearer ${tok}`}})).status;

async function main() {
  const browser = await launch();
  try {
    const {ctx, page} = await logIn(browser, ADMIN);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => d.accept());
    await page.keyboard.press('g');
    await page.keyboard.press('u');
    await loaded(page, 'users');
    check('g u opens the Users page listing admin', (await page.textContent('#main table')).includes('admin'));

    // add bob (analyst)
    await page.fill('#user-name', 'bob');
    await page.fill('#user-password', 'bob-password-123');
    await page.selectOption('#user-role', 'analyst');
    await page.click('form[aria-label="Add a user"] button[type=submit]');
    let m = await changed(page, 'bob was added');
    check('an admin adds bob from the page', m.includes('bob was added'), m);
    check('bob is listed as analyst', await page.locator('tr[data-name="bob"] select').inputValue() === 'analyst');

    // a token: the secret once, it works, then revoked
    await page.fill('#token-name', 'ui-test');
    await page.selectOption('#token-role', 'read');
    await page.selectOption('#token-ttl', '30d');
    await page.click('form[aria-label="Create a token"] button[type=submit]');
    await page.waitForSelector('#token-secret', {timeout: 15000});
    const secret = (await page.textContent('#token-secret')).trim();
    check('the new token secret is shown with a warning', secret.startsWith('vg_') &&
      (await page.textContent('.token-secret')).includes('not shown again'), secret);
    await shot(page, '71-users');
    check('the token works against GET /api/v1/stats', await bearer(secret) === 200);
    const listed = await page.evaluate(() => fetch('/api/v1/tokens').then((r) => r.text()));
    check('GET /api/v1/tokens lists it without the secret', listed.includes('ui-test') && !listed.includes(secret.slice(3)));
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
    await loaded(page, 'users');
    check('the secret is shown only once', await page.locator('#token-secret').count() === 0);
    await page.click('tr[data-name="ui-test"] button.danger');
    m = await changed(page, 'revoked');
    check('the token is revoked from the page', m.includes('revoked') && await page.locator('tr[data-name="ui-test"]').count() === 0, m);
    check('the revoked token is refused (401)', await bearer(secret) === 401);

    // bob: role to read, then deleted
    await page.selectOption('tr[data-name="bob"] select', 'read');
    m = await changed(page, 'now read');
    check('bob\'s role is changed to read', m.includes('now read') &&
      await page.locator('tr[data-name="bob"] select').inputValue() === 'read', m);
    await page.click('tr[data-name="bob"] button.danger');
    m = await changed(page, 'deleted');
    check('bob is deleted (after a confirmation)', m.includes('deleted') && await page.locator('tr[data-name="bob"]').count() === 0, m);
    check('admin cannot delete themself', await page.locator('tr[data-name="admin"] button.danger[disabled]').count() === 1);
    check('no script error on the Users page', problems.length === 0, problems);

    // an admin of tenant default works in another tenant through the header's tenant box
    await page.goto(`${URL0}/#/incidents`);
    await loaded(page, 'incidents');
    const mine = await page.locator('#main tbody tr[data-id]').count();
    check('the admin of default sees the tenant box', await page.locator('#tenant-form:not([hidden])').count() === 1);
    await page.fill('#tenant', 'acme');
    await page.press('#tenant', 'Enter');
    await page.waitForFunction(() => document.getElementById('notice')?.textContent.includes('acme'));
    await loaded(page, 'incidents');
    const theirs = await page.locator('#main tbody tr[data-id]').count();
    check('in tenant acme the demo incidents (tenant default) are not shown', mine > 0 && theirs === 0, `${mine} then ${theirs}`);
    await page.fill('#tenant', 'default');
    await page.press('#tenant', 'Enter');
    await page.waitForFunction(() => document.getElementById('notice')?.textContent.includes('tenant default'));
    await loaded(page, 'incidents');
    check('back in tenant default they are', await page.locator('#main tbody tr[data-id]').count() === mine);
    await ctx.close();

    // alice (analyst): read-only, and the API refuses
    const a = await logIn(browser, ANALYST);
    check('an analyst has no tenant box', await a.page.locator('#tenant-form[hidden]').count() === 1);
    await a.page.goto(`${URL0}/#/users`);
    await loaded(a.page, 'users');
    check('an analyst sees the page read-only with a notice',
      (await a.page.textContent('#users-readonly')).includes('needs the admin role') &&
      await a.page.locator('form[aria-label="Add a user"] button[disabled]').count() === 1 &&
      await a.page.locator('form[aria-label="Create a token"] button[disabled]').count() === 1);
    const st = await a.page.evaluate(async () => [
      (await fetch('/api/v1/users')).status,
      (await fetch('/api/v1/tokens', {method: 'POST', headers: {'X-CSRF-Token': sessionStorage.getItem('vigie.csrf'),
        'Content-Type': 'application/json'}, body: '{"name":"x","role":"admin"}'})).status,
    ]);
    check('the API refuses the analyst (403)', st[0] === 403 && st[1] === 403, st);
    await shot(a.page, '72-users-read-only');
    await a.ctx.close();
  } finally {
    await browser.close();
  }
}

run(main);
