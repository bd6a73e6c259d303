// The embeddable card, as a reader sees it: Vigie serves a territory's card,
// headless Chromium loads it (alone, and inside a partner's page through
// embed.js), and the test checks the text a reader sees and saves
// screenshots in tests/browser/out/.
//
// Usage: VIGIE_BIN=path/to/vigie [CHROMIUM=/usr/bin/chromium] node widget.mjs

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { post, startHub } from '../support/hub.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');

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
  let hub;
  let partnerSite;
  try {
    hub = await startHub();
    const { base, key } = hub;

    // Nantes Métropole documents two AI uses and a concertation that
    // raised a concern.
    const api = `${base}/graphql`;
    const { territory } = await post(api,
      'query($slug: String!) { territory(slug: $slug) { id } }', { slug: 'nantes-metropole' }, key);
    for (const [title, status] of [
      ['Assistant de réponse aux usagers', 'PRODUCTION'],
      ['Tri automatique du courrier', 'PILOT'],
    ]) {
      await post(api,
        'mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }',
        { input: { territory: territory.id, title, status } }, key);
    }
    const { createConcertation } = await post(api,
      'mutation($input: CreateConcertationInput!) { createConcertation(input: $input) { id } }',
      { input: { territory: territory.id, title: 'Atelier citoyen sur l\'IA', status: 'COMPLETED' } }, key);
    await post(api,
      'mutation($input: CreateContributionInput!) { createContribution(input: $input) { id } }',
      { input: { concertation: createConcertation.id, kind: 'CONCERN',
                 statement: 'Qui vérifie les réponses données par l\'IA ?' } }, key);

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

    // A Dutch municipality's card: its uses from the Algoritmeregister
    // (as many as the bundled listing has), and the register's attribution.
    const listing = JSON.parse(gunzipSync(readFileSync(new URL(
      '../../data/registers/nl-algoritmeregister/algoritmes.json.gz', import.meta.url))));
    const uses = listing.algoritmes.filter((a) => a.organisatie === 'Gemeente Amsterdam');
    const dutch = await chromium(['--dump-dom', `${base}/embed/territory/gemeente-amsterdam-nl`]);
    for (const seen of [
      'Gemeente Amsterdam',
      `${uses.length} usage(s) de l'IA`,
      'Bron: Algoritmeregister van de Nederlandse overheid (algoritmes.overheid.nl), CC0',
    ]) {
      assert.ok(dutch.includes(seen.replaceAll("'", '&#39;')) || dutch.includes(seen), `the Dutch card does not show ${seen}:\n${dutch}`);
    }
    await chromium(['--window-size=640,520', `--screenshot=${join(OUT, 'widget-nl.png')}`,
      `${base}/embed/territory/gemeente-amsterdam-nl`]);

    // An unknown territory says so.
    const missing = await chromium(['--dump-dom', `${base}/embed/territory/nulle-part`]);
    assert.ok(missing.includes('Territoire introuvable'), missing);
    console.log(`widget: the card shows 2 AI uses and 1 concern in Chromium, a Dutch municipality's ${uses.length} uses with their attribution; ${cardBytes + scriptBytes} bytes; screenshots in ${OUT}`);
  } finally {
    partnerSite?.close();
    hub?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
