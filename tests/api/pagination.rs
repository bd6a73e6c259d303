//! Connections: pages cut by keyset in SQL, root and nested, in both
//! directions, with their limits.

use std::collections::BTreeSet;

use entity::{enums::TerritoryKind, territory};
use sea_orm::ActiveValue::Set;
use serde_json::{Value as Json, json};

use crate::{
    fixtures::{Grid, seed_grid},
    helpers::{Backend, TestApp, codes, gid, node_ids, put},
};

const PAGE: &str = r#"query($first: Int, $after: String, $last: Int, $before: String) {
  territories(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

async fn page(app: &TestApp, vars: Json) -> Json {
    app.query(PAGE, vars).await["territories"].clone()
}

async fn add_territory(app: &TestApp, n: i64) {
    put(
        &app.db,
        territory::ActiveModel {
            name: Set(format!("Ajout {n}")),
            slug: Set(format!("ajout-{n}")),
            kind: Set(TerritoryKind::Municipality),
            ..Default::default()
        },
    )
    .await;
}

on_both_backends! {
    async fn paging_forwards_returns_every_row_once_in_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 23, deployments_per_territory: 0, concerns_per_deployment: 0 }).await;
        let mut seen = Vec::new();
        let mut after = Json::Null;
        let mut pages = 0;
        loop {
            let page = page(&app, json!({ "first": 5, "after": after })).await;
            assert_eq!(page["totalCount"], 23);
            let ids = node_ids(&page);
            assert_eq!(page["edges"].as_array().unwrap().len(), ids.len());
            assert_eq!(page["pageInfo"]["hasPreviousPage"], pages > 0);
            seen.extend(ids);
            pages += 1;
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(pages, 5);
        let expected: Vec<String> = (1..=23).map(|id| gid("Territory", id)).collect();
        assert_eq!(seen, expected);
    }

    async fn paging_backwards_returns_every_row_once_in_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 12, deployments_per_territory: 0, concerns_per_deployment: 0 }).await;
        let mut seen = Vec::new();
        let mut before = Json::Null;
        loop {
            let page = page(&app, json!({ "last": 5, "before": before })).await;
            let mut ids = node_ids(&page);
            ids.extend(seen);
            seen = ids;
            assert_eq!(page["pageInfo"]["hasNextPage"], !before.is_null());
            if page["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = page["pageInfo"]["startCursor"].clone();
        }
        let expected: Vec<String> = (1..=12).map(|id| gid("Territory", id)).collect();
        assert_eq!(seen, expected);
    }

    async fn rows_inserted_between_pages_are_neither_skipped_nor_repeated(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 10, deployments_per_territory: 0, concerns_per_deployment: 0 }).await;
        let first = page(&app, json!({ "first": 4 })).await;
        add_territory(&app, 1).await;
        let second = page(&app, json!({ "first": 4, "after": first["pageInfo"]["endCursor"] })).await;
        add_territory(&app, 2).await;
        let mut seen = node_ids(&first);
        seen.extend(node_ids(&second));
        let mut after = second["pageInfo"]["endCursor"].clone();
        loop {
            let page = page(&app, json!({ "first": 4, "after": after })).await;
            seen.extend(node_ids(&page));
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a row came twice: {seen:?}");
        assert_eq!(seen.len(), 12);
    }

    async fn lists_default_to_twenty_items_and_refuse_more_than_a_hundred(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 120, deployments_per_territory: 0, concerns_per_deployment: 0 }).await;
        let default = page(&app, json!({})).await;
        assert_eq!(node_ids(&default).len(), 20);
        assert_eq!(default["totalCount"], 120);
        assert_eq!(node_ids(&page(&app, json!({ "first": 100 })).await).len(), 100);
        assert_eq!(node_ids(&page(&app, json!({ "first": 0 })).await).len(), 0);

        for vars in [
            json!({ "first": 101 }),
            json!({ "last": 101 }),
            json!({ "first": -1 }),
            json!({ "first": 2, "last": 2 }),
            json!({ "after": "not-a-cursor" }),
            json!({ "before": "bm90LWEtY3Vyc29y" }),
        ] {
            let errors = app.errors(PAGE, vars.clone()).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"], "{vars}: {errors:?}");
            assert!(errors[0]["extensions"]["argument"].is_string(), "{errors:?}");
        }
    }

    async fn cursors_are_given_wherever_the_selection_reads_them(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 12, deployments_per_territory: 0, concerns_per_deployment: 0 }).await;
        // `pageInfo` only through a fragment, beside `nodes`.
        let query = r#"query($after: String) {
          territories(first: 5, after: $after) { nodes { id } ...Where }
        }
        fragment Where on TerritoryConnection { pageInfo { hasNextPage endCursor } }"#;
        let mut seen = Vec::new();
        let mut after = Json::Null;
        loop {
            let page = app.query(query, json!({ "after": after })).await["territories"].clone();
            seen.extend(node_ids(&page));
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
            assert!(!after.as_str().unwrap().is_empty());
        }
        assert_eq!(seen, (1..=12).map(|id| gid("Territory", id)).collect::<Vec<_>>());

        // `edges` under an alias, and its `cursor` under another.
        let aliased = app
            .query(r#"{ territories(first: 3) { items: edges { c: cursor } } }"#, json!({}))
            .await;
        let cursors: BTreeSet<&str> = aliased["territories"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["c"].as_str().unwrap())
            .collect();
        assert_eq!(cursors.len(), 3);
        assert!(cursors.iter().all(|c| !c.is_empty()));
    }

    async fn nested_lists_are_paginated_per_parent(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 3, deployments_per_territory: 7, concerns_per_deployment: 1 }).await;
        let query = r#"query($after: String) {
          territories { nodes { id deployments(first: 3, after: $after) {
            totalCount nodes { id territory { id } } pageInfo { hasNextPage endCursor } } } }
        }"#;
        let data = app.query(query, json!({})).await;
        let territories = data["territories"]["nodes"].as_array().unwrap();
        assert_eq!(territories.len(), 3);
        for (t, territory) in territories.iter().enumerate() {
            let deployments = &territory["deployments"];
            assert_eq!(deployments["totalCount"], 7);
            assert_eq!(deployments["pageInfo"]["hasNextPage"], true);
            let first_id = t as i64 * 7 + 1;
            let expected: Vec<String> = (first_id..first_id + 3).map(|id| gid("Deployment", id)).collect();
            assert_eq!(node_ids(deployments), expected);
            for node in deployments["nodes"].as_array().unwrap() {
                assert_eq!(node["territory"]["id"], territory["id"]);
            }
        }
        // The cursor of a nested page works on the next request.
        let cursor = territories[1]["deployments"]["pageInfo"]["endCursor"].clone();
        let next = app.query(query, json!({ "after": cursor })).await;
        let second = &next["territories"]["nodes"][1]["deployments"];
        let expected: Vec<String> = (11..=13).map(|id| gid("Deployment", id)).collect();
        assert_eq!(node_ids(second), expected);
        // Past a cursor, `totalCount` still counts the whole list.
        assert_eq!(second["totalCount"], 7);

        let last = app
            .query(
                r#"{ territories(first: 1) { nodes { deployments(last: 2) { totalCount nodes { id } pageInfo { hasPreviousPage hasNextPage } } } } }"#,
                json!({}),
            )
            .await;
        let deployments = &last["territories"]["nodes"][0]["deployments"];
        assert_eq!(node_ids(deployments), vec![gid("Deployment", 6), gid("Deployment", 7)]);
        assert_eq!(deployments["totalCount"], 7);
        assert_eq!(deployments["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(deployments["pageInfo"]["hasNextPage"], false);
    }
}
