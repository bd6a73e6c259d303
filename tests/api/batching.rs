//! No N+1: a query costs a number of SQL statements set by its shape —
//! one per relation level, and one more per `totalCount` of a root list
//! (a nested list's first page is counted by the statement that fetches
//! it) — never by the number of rows it returns.

use serde_json::{Value as Json, json};
use vigie::server::HEADLINE_QUERY;

use crate::{
    fixtures::{Grid, seed_grid},
    helpers::{Backend, TestApp, slug_vars},
};

/// Every territory's AI uses with their declared risks and the citizen
/// concerns about each: the headline question, across territories.
const ALL_TERRITORIES: &str = r#"{
  territories(first: 50) {
    totalCount
    nodes {
      name
      deployments(first: 20) {
        totalCount
        nodes {
          title
          status
          risks(first: 5) { nodes { severity category { key } } }
          concerns(first: 5) {
            totalCount
            nodes { statement riskCategories(first: 5) { nodes { key } } }
          }
        }
      }
      concerns(first: 5) { nodes { statement } }
    }
  }
}"#;

/// Its relation fields, each one statement for its page and, at the root,
/// one for its `totalCount`: territories (2), deployments (1), risks (1),
/// category (1), deployment concerns (1), their risk categories (1),
/// territory concerns (1).
const ALL_TERRITORIES_BOUND: u64 = 8;

/// The headline query's relation fields: territory (1), deployments (1),
/// risks (1), category (1), deployment concerns (1), territory concerns (1),
/// concertation (1), risk categories (1), participations (1), programme (1),
/// programme concerns (1), their risk categories (1).
const HEADLINE_BOUND: u64 = 12;

const BASE: Grid = Grid {
    territories: 50,
    deployments_per_territory: 20,
    concerns_per_deployment: 5,
};

/// Ten times the rows of [`BASE`] in every table.
const TEN_TIMES: Grid = Grid {
    territories: 500,
    deployments_per_territory: 20,
    concerns_per_deployment: 5,
};

fn count(data: &Json, pointer: &str) -> usize {
    data.pointer(pointer)
        .and_then(Json::as_array)
        .map_or(0, Vec::len)
}

fn deployments_returned(data: &Json) -> usize {
    data["territories"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| count(t, "/deployments/nodes"))
        .sum()
}

async fn measure(backend: Backend, grid: Grid) -> (u64, u64) {
    let app = TestApp::new(backend).await;
    seed_grid(&app.db, grid).await;
    assert_eq!(app.count_rows("contribution").await, grid.rows());

    let (data, all) = app.count_statements(ALL_TERRITORIES, json!({})).await;
    assert_eq!(data["territories"]["totalCount"], grid.territories);
    assert_eq!(deployments_returned(&data), 50 * 20);
    let concerns = &data["territories"]["nodes"][0]["deployments"]["nodes"][0]["concerns"];
    assert_eq!(concerns["totalCount"], grid.concerns_per_deployment);

    let (data, headline) = app
        .count_statements(HEADLINE_QUERY, slug_vars("territoire-1"))
        .await;
    let territory = &data["territory"];
    assert_eq!(territory["deployments"]["totalCount"], 20);
    assert_eq!(count(territory, "/deployments/nodes"), 20);
    assert_eq!(count(territory, "/deployments/nodes/0/risks/nodes"), 2);
    assert_eq!(
        territory["concerns"]["totalCount"],
        grid.deployments_per_territory * grid.concerns_per_deployment
    );
    (all, headline)
}

on_both_backends! {
    async fn nested_queries_cost_statements_by_depth_not_by_rows(backend: Backend) {
        let (all, headline) = measure(backend, BASE).await;
        let (all_ten, headline_ten) = measure(backend, TEN_TIMES).await;
        eprintln!(
            "{backend:?}: all territories {all} statements ({all_ten} on 10x rows); \
             headline {headline} ({headline_ten} on 10x rows)"
        );
        assert!(all <= ALL_TERRITORIES_BOUND, "{all} statements");
        assert!(headline <= HEADLINE_BOUND, "{headline} statements");
        assert!(headline_ten <= HEADLINE_BOUND, "{headline_ten} statements on 10x rows");
        assert_eq!(all, all_ten, "statements grew with the rows");
        // The headline query asks for a concern's risk categories at two
        // depths: when both levels are ready at once they share one
        // statement, else they take one each (9 or 10 statements). Either way the count stays within one
        // statement per relation field, at any number of rows.
    }

    async fn a_level_is_one_statement_however_many_parents(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 100, deployments_per_territory: 3, concerns_per_deployment: 1 }).await;
        for first in [1, 10, 100] {
            let (data, statements) = app
                .count_statements(
                    "query($first: Int) { territories(first: $first) { nodes { deployments { nodes { territory { slug } } } } } }",
                    json!({ "first": first }),
                )
                .await;
            assert_eq!(count(&data, "/territories/nodes"), first as usize);
            // Territories, their deployments, each deployment's territory.
            assert_eq!(statements, 3, "first: {first}");
        }
    }
}
