// GraphiQL as a user meets it: `GET /` in headless Chromium, with every
// request to another origin refused. The page must load from the hub
// alone, run the headline query from the editor's Run button, and show
// its data in the result pane, with no Content-Security-Policy violation.
//
// Usage: VIGIE_BIN=path/to/vigie [CHROMIUM=/usr/bin/chromium] node graphiql.mjs

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

import { startHub } from '../support/hub.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');

async function main() {
  let hub;
  let browser;
  try {
    hub = await startHub();
    const origin = new URL(hub.base).origin;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

    // Offline but for the hub: any other origin is cut off, and noted.
    const elsewhere = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const problems = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));

    const response = await page.goto(`${hub.base}/`, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    const policy = response.headers()['content-security-policy'];
    assert.ok(policy && !policy.includes('http'), `policy: ${policy}`);

    // The editor holds the headline query; Run sends it.
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 30000 });
    const editor = await page.locator('.graphiql-query-editor').innerText();
    assert.match(editor, /query TerritoryAiUses/);
    await run.click();

    const result = page.locator('.graphiql-response');
    await page.waitForFunction(
      () => document.querySelector('.graphiql-response')?.innerText.includes('Gemeente Amsterdam'),
      null,
      { timeout: 30000 },
    );
    const shown = await result.innerText();
    assert.match(shown, /"data"/);
    assert.match(shown, /"territory"/);
    // A Dutch municipality's AI uses, from the bundled register (the
    // pane draws the answer's first lines only).
    assert.match(shown, /Gemeente Amsterdam/);
    assert.match(shown, /algoritmes\.overheid\.nl/);
    assert.doesNotMatch(shown, /"errors"/);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'graphiql.png') });
    assert.deepEqual(elsewhere, [], 'GraphiQL asked another origin');
    assert.deepEqual(problems, [], 'errors in the page');
    console.log(`graphiql: loaded from the hub alone, ran the headline query, result shown; screenshot in ${OUT}`);
  } finally {
    await browser?.close();
    hub?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
