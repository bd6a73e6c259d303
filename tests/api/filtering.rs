//! Filters on every list, root and nested: typed operators, text matching
//! that ignores case and accents on both databases, `and`/`or`/`not`, and
//! conditions on relations.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use crate::{
    fixtures::{Grid, seed_everything, seed_grid},
    helpers::{Backend, TestApp, codes, gid, gids, node_ids},
};

fn names(connection: &Json) -> BTreeSet<String> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

fn reference_territories() -> Vec<Json> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/reference.json");
    let facts: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    facts["engaged_territories"].as_array().unwrap().clone()
}

/// The reference territories whose `field` satisfies `keep`.
fn expected(field: &str, keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
    reference_territories()
        .iter()
        .filter(|t| t[field].as_str().is_some_and(&keep))
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

const TERRITORIES: &str = r#"query($filter: TerritoryFilter) {
  territories(first: 100, filter: $filter) { totalCount nodes { id name } }
}"#;

async fn territories(app: &TestApp, filter: Json) -> Json {
    app.query(TERRITORIES, json!({ "filter": filter })).await["territories"].clone()
}

on_both_backends! {
    async fn text_matching_ignores_case_and_accents(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let fold = |s: &str| vigie::text::fold(s);

        let found = territories(&app, json!({ "name": { "contains": "METROPOLE" } })).await;
        let want = expected("name", |n| fold(n).contains("metropole"));
        assert!(want.len() > 5);
        assert_eq!(names(&found), want);
        assert_eq!(found["totalCount"], want.len());

        let found = territories(&app, json!({ "region": { "startsWith": "ile-de" } })).await;
        assert_eq!(names(&found), expected("region", |r| r == "Île-de-France"));

        let found = territories(&app, json!({ "name": { "endsWith": "REZE" } })).await;
        assert_eq!(names(&found), BTreeSet::from(["Rezé".to_owned()]));

        // Wildcards in the needle are literal.
        let found = territories(&app, json!({ "name": { "contains": "%" } })).await;
        assert_eq!(found["totalCount"], 0);

        // Exact comparisons stay exact.
        let found = territories(&app, json!({ "region": { "eq": "Bretagne" } })).await;
        assert_eq!(names(&found), expected("region", |r| r == "Bretagne"));
        let found = territories(&app, json!({ "region": { "eq": "bretagne" } })).await;
        assert_eq!(found["totalCount"], 0);
    }

    async fn typed_operators_and_boolean_combinations_select_the_right_rows(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let metropoles = expected("kind", |k| k == "METROPOLE");

        let found = territories(&app, json!({ "kind": { "eq": "METROPOLE" } })).await;
        assert_eq!(names(&found), metropoles);
        let found = territories(&app, json!({ "kind": { "in": ["METROPOLE", "REGION"] } })).await;
        assert_eq!(names(&found), expected("kind", |k| k == "METROPOLE" || k == "REGION"));
        let found = territories(&app, json!({ "kind": { "notIn": ["METROPOLE"] } })).await;
        assert_eq!(names(&found), expected("kind", |k| k != "METROPOLE"));
        let found = territories(&app, json!({ "department": { "isNull": true } })).await;
        assert_eq!(names(&found), BTreeSet::from(["Région Centre-Val de Loire".to_owned()]));
        let found = territories(&app, json!({ "department": { "gte": "90", "lt": "95" } })).await;
        assert_eq!(names(&found), expected("department", |d| ("90".."95").contains(&d)));

        let found = territories(&app, json!({
            "or": [{ "kind": { "eq": "REGION" } }, { "department": { "eq": "44" } }]
        })).await;
        let want: BTreeSet<String> = expected("department", |d| d == "44")
            .union(&expected("kind", |k| k == "REGION"))
            .cloned()
            .collect();
        assert_eq!(names(&found), want);

        // `not` counts a comparison with an empty field as not matching.
        let found = territories(&app, json!({ "not": { "department": { "eq": "44" } } })).await;
        let all = expected("name", |_| true);
        let want: BTreeSet<String> = all.difference(&expected("department", |d| d == "44")).cloned().collect();
        assert!(want.contains("Région Centre-Val de Loire"));
        assert_eq!(names(&found), want);

        let found = territories(&app, json!({
            "and": [{ "kind": { "eq": "METROPOLE" } }, { "region": { "contains": "loire" } }]
        })).await;
        assert_eq!(
            names(&found),
            metropoles.intersection(&expected("region", |r| r.to_lowercase().contains("loire"))).cloned().collect()
        );

        let nantes = app.query(r#"{ territory(slug: "nantes-metropole") { id } }"#, json!({})).await;
        let id = nantes["territory"]["id"].clone();
        let found = territories(&app, json!({ "id": { "in": [id] } })).await;
        assert_eq!(names(&found), BTreeSet::from(["Nantes Métropole".to_owned()]));
    }

    async fn relation_conditions_follow_relations_both_ways(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        // Territories with a deployment in production using generative text.
        let found = territories(&app, json!({
            "deployments": { "some": {
                "status": { "eq": "PRODUCTION" },
                "techniques": { "some": { "key": { "eq": "GENERATIVE_TEXT" } } }
            } }
        })).await;
        assert_eq!(node_ids(&found), vec![gid("Territory", f.commune)]);
        let found = territories(&app, json!({
            "deployments": { "some": { "techniques": { "some": { "key": { "eq": "COMPUTER_VISION" } } } } }
        })).await;
        assert_eq!(found["totalCount"], 0);
        let found = territories(&app, json!({ "deployments": { "none": {} } })).await;
        assert_eq!(node_ids(&found), gids("Territory", [f.epci, f.region, f.department]));
        // Every holds where there is nothing to check.
        let found = territories(&app, json!({ "deployments": { "every": { "status": { "eq": "PILOT" } } } })).await;
        assert_eq!(node_ids(&found), gids("Territory", [f.epci, f.region, f.department]));
        let found = territories(&app, json!({ "deployments": { "every": { "status": { "eq": "PRODUCTION" } } } })).await;
        assert_eq!(found["totalCount"], 4);
        // Through a link table and through a concertation.
        let found = territories(&app, json!({ "coOrganizedConcertations": { "some": { "status": { "eq": "COMPLETED" } } } })).await;
        assert_eq!(node_ids(&found), vec![gid("Territory", f.epci)]);
        let found = territories(&app, json!({ "concerns": { "some": { "statement": { "contains": "crainte" } } } })).await;
        assert_eq!(node_ids(&found), vec![gid("Territory", f.commune)]);
        // A to-one relation, and a self relation.
        let found = territories(&app, json!({ "parent": { "kind": { "eq": "AGGLOMERATION_COMMUNITY" } } })).await;
        assert_eq!(node_ids(&found), vec![gid("Territory", f.commune)]);
        let found = territories(&app, json!({ "children": { "some": { "population": { "gt": 10000 } } } })).await;
        assert_eq!(node_ids(&found), vec![gid("Territory", f.epci)]);
        let data = app.query(
            r#"{ deployments(filter: { territory: { parent: { slug: { eq: "agglomeration-de-test" } } } }) { nodes { id } } }"#,
            json!({}),
        ).await;
        assert_eq!(node_ids(&data["deployments"]), vec![gid("Deployment", f.deployment)]);
    }

    async fn nested_lists_filter_in_sql_and_count_what_they_filter(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 4, deployments_per_territory: 6, concerns_per_deployment: 1 }).await;
        let query = r#"{ territories { nodes { id
            all: deployments { totalCount }
            pilots: deployments(filter: { status: { eq: PILOT } }, first: 2) { totalCount nodes { id status } pageInfo { hasNextPage } }
        } } }"#;
        let before = app.statements();
        let data = app.query(query, json!({})).await;
        // Territories; the count of the list read for its count alone (it
        // fetches no page); the page of the other, which counts its list in
        // the same statement.
        assert_eq!(app.statements() - before, 3);
        for (t, territory) in data["territories"]["nodes"].as_array().unwrap().iter().enumerate() {
            assert_eq!(territory["all"]["totalCount"], 6);
            let pilots = &territory["pilots"];
            assert_eq!(pilots["totalCount"], 3);
            assert_eq!(pilots["pageInfo"]["hasNextPage"], true);
            let first = t as i64 * 6;
            assert_eq!(node_ids(pilots), gids("Deployment", [first + 2, first + 4]));
        }
    }

    async fn bad_filters_get_clear_errors(backend: Backend) {
        let app = TestApp::new(backend).await;
        // Unknown fields and operators are refused before anything runs,
        // whether they come in variables or in the document, naming them.
        let before = app.statements();
        let response = app.run(TERRITORIES, json!({ "filter": { "nmae": { "eq": "x" } } })).await;
        assert!(response.get("data").is_none_or(Json::is_null));
        let errors = response["errors"].as_array().unwrap();
        assert_eq!(codes(errors), vec!["BAD_USER_INPUT"]);
        assert!(errors[0]["message"].as_str().unwrap().contains("\"nmae\""), "{errors:?}");
        let errors = app.errors(r#"{ territories(filter: { name: { like: "x" } }) { totalCount } }"#, json!({})).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
        assert!(errors[0]["message"].as_str().unwrap().contains("\"like\""), "{errors:?}");
        assert_eq!(app.statements(), before);

        let many: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
        let errors = app.errors(TERRITORIES, json!({ "filter": { "slug": { "in": many } } })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
        assert_eq!(errors[0]["extensions"]["argument"], "in");

        let wide: Vec<Json> = (0..250).map(|_| json!({ "slug": { "eq": "x" } })).collect();
        let errors = app.errors(TERRITORIES, json!({ "filter": { "or": wide } })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);

        let errors = app.errors(TERRITORIES, json!({ "filter": { "id": { "eq": gid("Deployment", 1) } } })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    }
}
