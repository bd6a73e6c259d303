// The graphql-http audit (GraphQL over HTTP specification) against a
// running hub: every MUST must pass; SHOULD and MAY results are reported.
//
// Usage: VIGIE_BIN=path/to/vigie node audit.mjs

import { auditServer } from 'graphql-http';

import { startHub } from '../support/hub.mjs';

async function main() {
  const hub = await startHub(['--rate-limit-ip', '0']);
  try {
    const results = await auditServer({ url: `${hub.base}/graphql` });
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
    hub.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
