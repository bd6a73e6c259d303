// What the Node tests (federation, browser, conformance) share: a
// `vigie serve` on a fresh SQLite file (reference data loaded) with an
// admin key, and a GraphQL POST that must succeed.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const VIGIE =
  process.env.VIGIE_BIN ?? fileURLToPath(new URL('../../target/debug/vigie', import.meta.url));

/** A local port nothing listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers 2xx (`seconds` at most). */
export async function waitFor(url, seconds = 30) {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

/**
 * Starts `vigie serve` with `args` added (and the official geography
 * loaded if `geography`); returns its base URL, an admin key, and
 * `stop()`, which stops it and removes its database.
 */
export async function startHub(args = [], { geography = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-node-test-'));
  const database = `sqlite://${join(dir, 'vigie.db')}?mode=rwc`;
  const key = execFileSync(
    VIGIE,
    ['--database-url', database, 'keys', 'create', '--role', 'admin', '--label', 'node test'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ).trim();
  const port = await freePort();
  const hub = spawn(
    VIGIE,
    ['--database-url', database, 'serve', '--addr', `127.0.0.1:${port}`, ...args],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      // The reference data, and the official geography only when asked
      // for (its first load takes a while).
      env: { ...process.env, RUST_LOG: 'warn', VIGIE_NO_GEOGRAPHY: geography ? 'false' : 'true' },
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    hub.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${base}/health`, geography ? 300 : 30);
  } catch (err) {
    stop();
    throw err;
  }
  return { base, key, stop };
}

/** POSTs a GraphQL request (with an API key if given); its `data`, or a failed assertion. */
export async function post(url, query, variables = {}, key = undefined) {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  assert.equal(body.errors, undefined, `${url}: ${JSON.stringify(body.errors)}`);
  return body.data;
}
