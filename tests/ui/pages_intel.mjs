// pages_intel.mjs — the console's Intel page (web/intel.js) in headless Chromium, run by
// tests/ui/test_console.sh after console.mjs against the same `vigie server --demo` (which
// imported examples/intel/demo-feed.json as source "demo"). Checks: the demo source and its
// indicator are listed with their context (ATT&CK technique from the relationship); a lookup
// finds the demo brute-force address and says so for an unknown one; an analyst imports a
// CSV feed through the page and its indicator is then found; a read-only user sees import
// and removal disabled, and the API refuses the import to them. Same environment and output
// conventions as console.mjs.

import {join} from 'node:path';
import {ANALYST, ART, check, env, figures, launch, loaded, logIn, READER, run, shot, URL0} from './lib.mjs';



async function main() {
  const browser = await launch();
  try {
    const {ctx, page} = await logIn(browser, ANALYST);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const t0 = Date.now();
    await page.keyboard.press('g');
    await page.keyboard.press('n');
    await loaded(page, 'intel');
    console.log(`figure: Intel page (g n -> sources and indicators shown): ${Date.now() - t0} ms`);
    const srcText = await page.textContent('#main table');
    check('the demo source is listed with its format', srcText.includes('demo') && srcText.includes('stix'), srcText);
    const body = await page.textContent('#main');
    check('the demo indicator is listed with its ATT&CK context', body.includes('198.51.100.23') && body.includes('T1110'));
    await page.screenshot({path: join(ART, '61-intel.png'), fullPage: true});

    await page.fill('#intel-lookup', '198.51.100.23');
    await page.click('form[aria-label="Look up a value"] button');
    await page.waitForSelector('#intel-lookup-result[data-state="found"]');
    check('a lookup finds the demo address with its name', (await page.textContent('#intel-lookup-result')).includes('SSH brute-force scanner'));
    await page.fill('#intel-lookup', '192.0.2.200');
    await page.click('form[aria-label="Look up a value"] button');
    await page.waitForSelector('#intel-lookup-result[data-state="none"]');
    check('a lookup of an unknown value says none matches', (await page.textContent('#intel-lookup-result')).includes('No live indicator'));

    // import a small plain feed through the page
    await page.fill('#intel-src', 'console-test');
    await page.selectOption('#intel-fmt', 'csv');
    await page.setInputFiles('#intel-file', {name: 'feed.txt', mimeType: 'text/plain',
      buffer: Buffer.from('# a test feed\n203.0.113.99\nbad-host.example\n')});
    await page.click('form[aria-label="Import a feed"] button[type=submit]');
    await page.waitForSelector('#intel-import-result[data-state]', {timeout: 15000});
    const res = await page.textContent('#intel-import-result');
    check('an analyst imports a feed file from the page (the outcome is shown)', res.includes('console-test: 2 indicators'), res);
    await page.waitForFunction(() => document.querySelector('#main table')?.textContent.includes('console-test'));
    await page.fill('#intel-lookup', 'bad-host.example');
    await page.click('form[aria-label="Look up a value"] button');
    await page.waitForSelector('#intel-lookup-result[data-state="found"]');
    check('the imported indicator is found at once', (await page.textContent('#intel-lookup-result')).includes('console-test'));
    check('no script error on the Intel page', problems.length === 0, problems);
    await ctx.close();

    const r = await logIn(browser, READER);
    await r.page.goto(`${URL0}/#/intel`);
    await loaded(r.page, 'intel');
    check('a read-only user sees import and removal disabled',
      await r.page.locator('form[aria-label="Import a feed"] button[disabled]').count() === 1 &&
      await r.page.locator('#main table button[disabled]').count() >= 1);
    const status = await r.page.evaluate(async () => (await fetch('/api/v1/intel/import?source=x&format=csv', {
      method: 'POST', headers: {'X-CSRF-Token': sessionStorage.getItem('vigie.csrf'), 'Content-Type': 'text/plain'}, body: '203.0.113.1\n',
    })).status);
    check('the API refuses an import to a read-only user (403)', status === 403, status);
    await r.page.screenshot({path: join(ART, '62-intel-read-only.png'), fullPage: true});
    await r.ctx.close();
  } finally {
    await browser.close();
  }
}

run(main);
