// Federation, proven with Apollo's own tooling: Vigie and a second subgraph
// (budgets, extending Vigie's Territory by its SIREN) composed by
// @apollo/gateway, and queries that cross them in both directions.
//
// Usage: VIGIE_BIN=path/to/vigie node run.mjs

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { parse } from 'graphql';

const VIGIE = process.env.VIGIE_BIN ?? '../../target/debug/vigie';
// Nantes Métropole's SIREN (valid Luhn key).
const NANTES_SIREN = '244400404';

// The second subgraph: AI budgets of territories, known by SIREN.
const budgetsSdl = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  "A territory of Vigie, extended with its AI budgets."
  type Territory @key(fields: "siren") {
    siren: String
    "AI spending voted by the territory, by year."
    aiBudgets: [AiBudget!]!
  }

  "AI spending voted for one year."
  type AiBudget {
    year: Int!
    amountEuros: Int!
    territory: Territory!
  }

  type Query {
    "Every budget this subgraph knows."
    aiBudgets: [AiBudget!]!
  }
`);

const BUDGETS = [
  { siren: NANTES_SIREN, year: 2025, amountEuros: 1200000 },
  { siren: NANTES_SIREN, year: 2026, amountEuros: 1500000 },
];

const budgetResolvers = {
  Query: {
    aiBudgets: () => BUDGETS,
  },
  Territory: {
    __resolveReference: (territory) => territory,
    aiBudgets: (territory) => BUDGETS.filter((b) => b.siren === territory.siren),
  },
  AiBudget: {
    territory: (budget) => ({ __typename: 'Territory', siren: budget.siren }),
  },
};

function vigie(args, options = {}) {
  return spawn(VIGIE, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options });
}

async function waitFor(url, tries = 300) {
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function post(url, query, variables = {}, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, `${url}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-federation-'));
  const database = `sqlite://${join(dir, 'vigie.db')}?mode=rwc`;
  const port = 18000 + Math.floor(Math.random() * 2000);
  const vigieUrl = `http://127.0.0.1:${port}/graphql`;
  let hub;
  let budgets;
  let gateway;
  try {
    const key = execFileSync(
      VIGIE,
      ['--database-url', database, 'keys', 'create', '--role', 'admin', '--label', 'federation test'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    ).trim();
    hub = vigie(['--database-url', database, 'serve', '--addr', `127.0.0.1:${port}`], {
      env: { ...process.env, RUST_LOG: 'warn' },
    });
    await waitFor(`http://127.0.0.1:${port}/health`);

    // Give Nantes Métropole its SIREN, through the API.
    const { territory } = await post(
      vigieUrl,
      'query($slug: String!) { territory(slug: $slug) { id version } }',
      { slug: 'nantes-metropole' },
    );
    await post(
      vigieUrl,
      'mutation($input: UpdateTerritoryInput!) { updateTerritory(input: $input) { siren } }',
      { input: { id: territory.id, expectedVersion: territory.version, siren: NANTES_SIREN } },
      { authorization: `Bearer ${key}` },
    );

    budgets = new ApolloServer({
      schema: buildSubgraphSchema({ typeDefs: budgetsSdl, resolvers: budgetResolvers }),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url: budgetsUrl } = await startStandaloneServer(budgets, { listen: { port: 0 } });

    gateway = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: new IntrospectAndCompose({
          subgraphs: [
            { name: 'vigie', url: vigieUrl },
            { name: 'budgets', url: budgetsUrl },
          ],
        }),
      }),
    });
    const { url: gatewayUrl } = await startStandaloneServer(gateway, { listen: { port: 0 } });

    // From Vigie to the budgets subgraph (an entity fetch by SIREN).
    const fromVigie = await post(
      gatewayUrl,
      `query($slug: String!) {
        territory(slug: $slug) {
          name
          siren
          deployments { totalCount }
          aiBudgets { year amountEuros }
        }
      }`,
      { slug: 'nantes-metropole' },
    );
    assert.equal(fromVigie.territory.name, 'Nantes Métropole');
    assert.equal(fromVigie.territory.siren, NANTES_SIREN);
    assert.equal(typeof fromVigie.territory.deployments.totalCount, 'number');
    assert.deepEqual(fromVigie.territory.aiBudgets, [
      { year: 2025, amountEuros: 1200000 },
      { year: 2026, amountEuros: 1500000 },
    ]);

    // From the budgets subgraph to Vigie (Vigie resolves Territory by SIREN).
    const fromBudgets = await post(
      gatewayUrl,
      '{ aiBudgets { year territory { name slug concertations { totalCount } } } }',
    );
    assert.equal(fromBudgets.aiBudgets.length, 2);
    for (const budget of fromBudgets.aiBudgets) {
      assert.equal(budget.territory.name, 'Nantes Métropole');
      assert.equal(budget.territory.slug, 'nantes-metropole');
    }
    console.log(
      `federation: composed vigie + budgets under @apollo/gateway; ` +
        `${fromVigie.territory.name} has ${fromVigie.territory.deployments.totalCount} AI uses ` +
        `and ${fromVigie.territory.aiBudgets.length} AI budgets; both directions resolve`,
    );
  } finally {
    await gateway?.stop();
    await budgets?.stop();
    hub?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
