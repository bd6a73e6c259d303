// The embeddable card, as a reader sees it: Vigie serves a territory's card,
// headless Chromium loads it (alone, and inside a partner's page through
// embed.js), and the test checks the text a reader sees and saves
// screenshots in tests/browser/out/.
//
// Usage: VIGIE_BIN=path/to/vigie [CHROMIUM=/usr/bin/chromium] node widget.mjs

import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const VIGIE = process.env.VIGIE_BIN ?? '../../target/debug/vigie';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function graphql(url, key, query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// Runs Chromium without blocking this process, which serves the partner's page.
async function chromium(args) {
  const { stdout } = await promisify(execFile)(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--virtual-time-budget=15000',
      ...args,
    ],
    { encoding: 'utf8', timeout: 60000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-widget-'));
  const database = `sqlite://${join(dir, 'vigie.db')}?mode=rwc`;
  const port = 20000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  let hub;
  let partnerSite;
  try {
    const key = execFileSync(
      VIGIE,
      ['--database-url', database, 'keys', 'create', '--role', 'admin', '--label', 'widget test'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    ).trim();
    hub = spawn(VIGIE, ['--database-url', database, 'serve', '--addr', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, RUST_LOG: 'warn' },
    });
    await waitFor(`${base}/health`);

    // Nantes Métropole documents two AI uses and a concertation that
    // raised a concern.
    const api = `${base}/graphql`;
    const { territory } = await graphql(api, key,
      'query($slug: String!) { territory(slug: $slug) { id } }', { slug: 'nantes-metropole' });
    for (const [title, status] of [
      ['Assistant de réponse aux usagers', 'PRODUCTION'],
      ['Tri automatique du courrier', 'PILOT'],
    ]) {
      await graphql(api, key,
        'mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }',
        { input: { territory: territory.id, title, status } });
    }
    const { createConcertation } = await graphql(api, key,
      'mutation($input: CreateConcertationInput!) { createConcertation(input: $input) { id } }',
      { input: { territory: territory.id, title: 'Atelier citoyen sur l\'IA', status: 'COMPLETED' } });
    await graphql(api, key,
      'mutation($input: CreateContributionInput!) { createContribution(input: $input) { id } }',
      { input: { concertation: createConcertation.id, kind: 'CONCERN',
                 statement: 'Qui vérifie les réponses données par l\'IA ?' } });

    // Small: the card and its script under 30 KB.
    const card = await fetch(`${base}/embed/territory/nantes-metropole`);
    assert.equal(card.status, 200);
    const cardBytes = Buffer.byteLength(await card.text());
    const scriptBytes = Buffer.byteLength(await (await fetch(`${base}/embed.js`)).text());
    assert.ok(cardBytes + scriptBytes < 30 * 1024, `${cardBytes + scriptBytes} bytes`);

    // The card alone, as an <iframe> shows it.
    mkdirSync(OUT, { recursive: true });
    const cardUrl = `${base}/embed/territory/nantes-metropole`;
    const dom = await chromium(['--dump-dom', cardUrl]);
    for (const seen of [
      'Nantes Métropole',
      'Assistant de réponse aux usagers',
      'En service',
      'Tri automatique du courrier',
      'Expérimentation',
      'Qui vérifie les réponses données par l\'IA ?',
      '2 usage(s) de l\'IA',
    ]) {
      assert.ok(dom.includes(seen.replaceAll("'", '&#39;')) || dom.includes(seen), `the card does not show ${seen}:\n${dom}`);
    }
    assert.ok(!dom.includes('Chargement'), 'the card is still loading');
    await chromium(['--window-size=640,520', `--screenshot=${join(OUT, 'widget.png')}`, cardUrl]);
    assert.ok(statSync(join(OUT, 'widget.png')).size > 1000, 'no screenshot');

    // In a partner's page (another origin), through embed.js.
    const partnerHtml = `<!doctype html><meta charset="utf-8"><title>Partenaire</title>
<h1>Le site d'un partenaire</h1>
<script src="${base}/embed.js" data-territory="nantes-metropole"></script>`;
    partnerSite = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(partnerHtml);
    });
    await new Promise((resolve) => partnerSite.listen(0, '127.0.0.1', resolve));
    const partnerUrl = `http://localhost:${partnerSite.address().port}/`;
    const page = await chromium(['--dump-dom', partnerUrl]);
    assert.ok(page.includes(`<iframe src="${cardUrl}"`), `no card in the partner's page:\n${page}`);
    await chromium(['--window-size=720,640', `--screenshot=${join(OUT, 'partner.png')}`, partnerUrl]);

    // An unknown territory says so.
    const missing = await chromium(['--dump-dom', `${base}/embed/territory/nulle-part`]);
    assert.ok(missing.includes('Territoire introuvable'), missing);
    console.log(`widget: the card shows 2 AI uses and 1 concern in Chromium; ${cardBytes + scriptBytes} bytes; screenshots in ${OUT}`);
  } finally {
    partnerSite?.close();
    hub?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
