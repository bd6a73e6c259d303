// The graphql-http audit (GraphQL over HTTP specification) against a
// running hub: every MUST must pass; SHOULD and MAY results are reported.
//
// Usage: VIGIE_BIN=path/to/vigie node audit.mjs

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { auditServer } from 'graphql-http';

const VIGIE = process.env.VIGIE_BIN ?? '../../target/debug/vigie';

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

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-audit-'));
  const port = 22000 + Math.floor(Math.random() * 2000);
  const hub = spawn(
    VIGIE,
    ['--database-url', `sqlite://${join(dir, 'vigie.db')}?mode=rwc`, 'serve',
     '--addr', `127.0.0.1:${port}`, '--rate-limit-ip', '0'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  try {
    await waitFor(`http://127.0.0.1:${port}/health`);
    const results = await auditServer({ url: `http://127.0.0.1:${port}/graphql` });
    const counts = {};
    const mustFailures = [];
    for (const result of results) {
      const level = result.name.split(' ')[0];
      const key = `${level} ${result.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (result.status !== 'ok') {
        console.log(`${result.status.toUpperCase()} ${result.name}: ${result.reason}`);
      }
      if (level === 'MUST' && result.status !== 'ok') mustFailures.push(result.name);
    }
    console.log('graphql-http audit:', JSON.stringify(counts));
    if (mustFailures.length) {
      console.error(`${mustFailures.length} MUST failure(s)`);
      process.exitCode = 1;
    }
  } finally {
    hub.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
