//! Ordering: several keys, ties broken by id, empty values last (first when
//! descending) on both databases, and keyset pages that hold every row
//! exactly once whatever the order.

use std::collections::BTreeSet;

use entity::{enums::*, *};
use sea_orm::ActiveValue::Set;
use serde_json::{Value as Json, json};

use crate::{
    fixtures::{Grid, seed_grid},
    helpers::{Backend, TestApp, codes, gid, gids, node_ids, put},
};

const DEPLOYMENTS: &str = r#"query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [DeploymentOrder!], $filter: DeploymentFilter) {
  deployments(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, filter: $filter) {
    totalCount
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

async fn page(app: &TestApp, vars: Json) -> Json {
    app.query(DEPLOYMENTS, vars).await["deployments"].clone()
}

/// Pages forwards through a whole list, 100 at a time, calling `between`
/// after each page.
async fn walk(app: &TestApp, order_by: &Json, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = Json::Null;
    for n in 0.. {
        let page = page(
            app,
            json!({ "first": 100, "after": after, "orderBy": order_by }),
        )
        .await;
        seen.extend(node_ids(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        between(n).await;
    }
    seen
}

on_both_backends! {
    async fn lists_sort_by_several_keys_as_hand_written_sql_does(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 5, deployments_per_territory: 8, concerns_per_deployment: 0 }).await;
        for (order_by, sql) in [
            (json!([{ "field": "TITLE" }]), "ORDER BY title ASC NULLS LAST, id"),
            (json!([{ "field": "START_MONTH", "direction": "DESC" }]), "ORDER BY start_month DESC NULLS FIRST, id"),
            (
                json!([{ "field": "STATUS", "direction": "DESC" }, { "field": "START_MONTH" }, { "field": "TITLE", "direction": "DESC" }]),
                "ORDER BY status DESC NULLS FIRST, start_month ASC NULLS LAST, title DESC NULLS FIRST, id",
            ),
        ] {
            let want = app.ids(&format!("SELECT id FROM deployment {sql}")).await;
            let got = walk(&app, &order_by, async |_| {}).await;
            assert_eq!(got, gids("Deployment", want.clone()), "{order_by}");
            // Backwards, page by page, gives the same list.
            let mut backwards = Vec::new();
            let mut before = Json::Null;
            loop {
                let page = page(&app, json!({ "last": 7, "before": before, "orderBy": order_by })).await;
                let mut ids = node_ids(&page);
                ids.extend(backwards);
                backwards = ids;
                if page["pageInfo"]["hasPreviousPage"] == false {
                    break;
                }
                before = page["pageInfo"]["startCursor"].clone();
            }
            assert_eq!(backwards, gids("Deployment", want), "{order_by} backwards");
        }
    }

    async fn paging_through_ten_thousand_rows_in_any_order_returns_each_once(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 500, deployments_per_territory: 20, concerns_per_deployment: 0 }).await;
        let territory = app.ids("SELECT id FROM territory ORDER BY id LIMIT 1").await[0];
        let order_by = json!([{ "field": "START_MONTH", "direction": "DESC" }, { "field": "TITLE" }]);
        let mut added = 0;
        let seen = walk(&app, &order_by, async |n| {
            // Rows arrive while the client pages: one that sorts before the
            // pages read, one after.
            if n % 20 == 0 {
                for month in [Some("2099-12"), None] {
                    added += 1;
                    put(&app.db, deployment::ActiveModel {
                        territory_id: Set(territory),
                        title: Set(format!("Ajout {added}")),
                        status: Set(DeploymentStatus::Idea),
                        ai_act_tier: Set(AiActTier::Unassessed),
                        start_month: Set(month.map(str::to_owned)),
                        ..Default::default()
                    }).await;
                }
            }
        }).await;
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a row came twice");
        let original = gids("Deployment", 1..=10_000);
        let missing: Vec<&String> = original.iter().filter(|id| !unique.contains(id)).collect();
        assert!(missing.is_empty(), "{} rows skipped", missing.len());
    }

    async fn counted_lists_page_as_uncounted_ones_do(backend: Backend) {
        // Counted, a list whose filter keeps few rows is sorted from those
        // rows; uncounted, the database may walk an index in order. The
        // pages must be the same, and those of hand-written SQL.
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 4, deployments_per_territory: 10, concerns_per_deployment: 0 }).await;
        let filter = json!({ "status": { "eq": "PILOT" } });
        for (order_by, sql) in [
            (json!([{ "field": "START_MONTH", "direction": "DESC" }, { "field": "TITLE" }]), "ORDER BY start_month DESC NULLS FIRST, title ASC NULLS LAST, id"),
            (json!([{ "field": "TITLE", "direction": "DESC" }]), "ORDER BY title DESC NULLS FIRST, id"),
        ] {
            let want = gids("Deployment", app.ids(&format!("SELECT id FROM deployment WHERE status = 'PILOT' {sql}")).await);
            assert_eq!(want.len(), 20);
            for counted in [true, false] {
                let query = if counted { DEPLOYMENTS.to_owned() } else { DEPLOYMENTS.replace("totalCount", "") };
                // Forwards and backwards, 6 at a time, through the cursors.
                for (size, after, start, more) in [("first", "after", "endCursor", "hasNextPage"), ("last", "before", "startCursor", "hasPreviousPage")] {
                    let mut pages: Vec<Vec<String>> = Vec::new();
                    let mut cursor = Json::Null;
                    loop {
                        let data = app.query(&query, json!({ size: 6, after: cursor, "orderBy": order_by, "filter": filter })).await;
                        let page = &data["deployments"];
                        if counted {
                            assert_eq!(page["totalCount"], 20);
                        }
                        pages.push(node_ids(page));
                        if page["pageInfo"][more] == false {
                            break;
                        }
                        cursor = page["pageInfo"][start].clone();
                    }
                    if size == "last" {
                        pages.reverse();
                    }
                    let got: Vec<String> = pages.concat();
                    assert_eq!(got, want, "{order_by} {size} counted: {counted}");
                }
            }
        }
        // Few matches: the page and the count come in one statement, also
        // past a cursor, and for a list its filter empties.
        let (data, statements) = app.count_statements(DEPLOYMENTS, json!({ "first": 20, "filter": filter })).await;
        assert_eq!((data["deployments"]["totalCount"].clone(), statements), (json!(20), 1));
        let (end, start) = (&data["deployments"]["pageInfo"]["endCursor"], &data["deployments"]["pageInfo"]["startCursor"]);
        let (data, statements) = app
            .count_statements(DEPLOYMENTS, json!({ "first": 5, "after": start, "filter": filter }))
            .await;
        assert_eq!((data["deployments"]["totalCount"].clone(), statements), (json!(20), 1));
        assert_eq!(node_ids(&data["deployments"]).len(), 5);
        let (data, statements) = app
            .count_statements(DEPLOYMENTS, json!({ "first": 5, "filter": { "title": { "eq": "Aucun" } } }))
            .await;
        assert_eq!(data["deployments"]["totalCount"], 0);
        assert_eq!(node_ids(&data["deployments"]), Vec::<String>::new());
        assert_eq!(statements, 1);
        // A page past every match is empty, and the list still counts them.
        for window in [json!({ "first": 5, "after": end }), json!({ "last": 5, "before": start })] {
            let mut vars = window.clone();
            vars["filter"] = filter.clone();
            let data = app.query(DEPLOYMENTS, vars).await;
            assert_eq!(node_ids(&data["deployments"]), Vec::<String>::new(), "{window}");
            assert_eq!(data["deployments"]["totalCount"], 20, "{window}");
        }
    }

    async fn a_counted_list_with_many_matches_pages_and_counts_them_all(backend: Backend) {
        // Up to 2,000 matches are gathered and sorted in one statement; one
        // more, and they are counted, then the page is read in order.
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 100, deployments_per_territory: 20, concerns_per_deployment: 0 }).await;
        let filter = json!({ "status": { "in": ["PILOT", "PRODUCTION"] } });
        let order_by = json!([{ "field": "START_MONTH", "direction": "DESC" }, { "field": "TITLE" }]);
        let sql = "SELECT id FROM deployment WHERE status IN ('PILOT', 'PRODUCTION') \
                   ORDER BY start_month DESC NULLS FIRST, title ASC NULLS LAST, id";
        for (matches, statements) in [(2_000, 1), (2_001, 3)] {
            if matches > 2_000 {
                put(&app.db, deployment::ActiveModel {
                    territory_id: Set(1),
                    title: Set("Ajout".to_owned()),
                    status: Set(DeploymentStatus::Pilot),
                    ai_act_tier: Set(AiActTier::Unassessed),
                    start_month: Set(Some("2030-01".to_owned())),
                    ..Default::default()
                }).await;
            }
            let want = gids("Deployment", app.ids(sql).await);
            assert_eq!(want.len(), matches);
            let vars = json!({ "first": 50, "orderBy": order_by, "filter": filter });
            let (data, n) = app.count_statements(DEPLOYMENTS, vars.clone()).await;
            assert_eq!(n, statements, "{matches} matches");
            assert_eq!(data["deployments"]["totalCount"], matches);
            assert_eq!(node_ids(&data["deployments"]), want[..50]);
            let mut vars = vars;
            vars["after"] = data["deployments"]["pageInfo"]["endCursor"].clone();
            let data = app.query(DEPLOYMENTS, vars).await;
            assert_eq!(data["deployments"]["totalCount"], matches);
            assert_eq!(node_ids(&data["deployments"]), want[50..100]);
        }
    }

    async fn nested_lists_sort_per_parent(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 3, deployments_per_territory: 9, concerns_per_deployment: 0 }).await;
        let data = app.query(
            r#"{ territories { nodes { id deployments(first: 4, orderBy: [{ field: TITLE, direction: DESC }]) { nodes { id } } } } }"#,
            json!({}),
        ).await;
        for (t, territory) in data["territories"]["nodes"].as_array().unwrap().iter().enumerate() {
            let want = app.ids(&format!(
                "SELECT id FROM deployment WHERE territory_id = {} ORDER BY title DESC, id LIMIT 4",
                t + 1
            )).await;
            assert_eq!(node_ids(&territory["deployments"]), gids("Deployment", want));
        }
        // One parent at its level: the same page, forwards and backwards.
        let want = app.ids("SELECT id FROM deployment WHERE territory_id = 2 ORDER BY title DESC, id").await;
        for (window, expected) in [("first: 4", &want[..4]), ("last: 3", &want[6..])] {
            let data = app.query(
                &format!(r#"query($id: ID!) {{ node(id: $id) {{ ... on Territory {{ deployments({window}, orderBy: [{{ field: TITLE, direction: DESC }}]) {{ totalCount nodes {{ id }} }} }} }} }}"#),
                json!({ "id": gid("Territory", 2) }),
            ).await;
            let deployments = &data["node"]["deployments"];
            assert_eq!(node_ids(deployments), gids("Deployment", expected.to_vec()), "{window}");
            assert_eq!(deployments["totalCount"], 9, "{window}");
        }
    }

    async fn a_cursor_only_works_with_its_own_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 1, deployments_per_territory: 5, concerns_per_deployment: 0 }).await;
        let first = page(&app, json!({ "first": 2, "orderBy": [{ "field": "TITLE" }] })).await;
        let cursor = first["pageInfo"]["endCursor"].clone();
        let errors = app.errors(DEPLOYMENTS, json!({ "first": 2, "after": cursor })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
        assert!(errors[0]["message"].as_str().unwrap().contains("orderBy"));
        let too_many: Vec<Json> = (0..6).map(|_| json!({ "field": "TITLE" })).collect();
        let errors = app.errors(DEPLOYMENTS, json!({ "orderBy": too_many })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    }
}
