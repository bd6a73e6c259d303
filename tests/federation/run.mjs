// Federation, proven with Apollo's own tooling: Vigie and a second subgraph
// (budgets, extending Vigie's Territory by its SIREN) composed by
// @apollo/gateway, and queries that cross them in both directions.
//
// Usage: VIGIE_BIN=path/to/vigie node run.mjs

import assert from 'node:assert/strict';

import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { parse } from 'graphql';

import { post, startHub } from '../support/hub.mjs';

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

async function main() {
  let hub;
  let budgets;
  let gateway;
  try {
    // With the official geography, Nantes Métropole has its real SIREN.
    hub = await startHub([], { geography: true });
    const vigieUrl = `${hub.base}/graphql`;

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
    hub?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
