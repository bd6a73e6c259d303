//! Full-text search: French stemming, no case or accents, the same hits on
//! SQLite and PostgreSQL, and an index that follows every write.

use std::collections::BTreeSet;

use entity::{enums::*, *};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value as Json, json};

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, codes, gid, put},
};

const SEARCH: &str = r#"query($q: String!, $types: [SearchType!], $first: Int) {
  search(query: $q, types: $types, first: $first) { totalCount nodes {
    score
    rank
    node {
      __typename
      ... on Territory { id name }
      ... on Deployment { id title }
      ... on Concertation { id title }
      ... on Contribution { id statement }
      ... on StudyFinding { id statement }
      ... on Resource { id title }
    }
  } }
}"#;

async fn search(app: &TestApp, query: &str) -> Vec<Json> {
    search_in(app, query, Json::Null).await
}

async fn search_in(app: &TestApp, query: &str, types: Json) -> Vec<Json> {
    let data = app
        .query(SEARCH, json!({ "q": query, "types": types, "first": 100 }))
        .await;
    let hits = data["search"]["nodes"].as_array().unwrap().clone();
    // Asked for all of them: the count is theirs, and ranks are places.
    assert_eq!(data["search"]["totalCount"], hits.len(), "{data}");
    let ranks: Vec<i64> = hits
        .iter()
        .map(|hit| hit["rank"].as_i64().unwrap())
        .collect();
    assert_eq!(ranks, (1..=hits.len() as i64).collect::<Vec<_>>());
    hits
}

fn ids(hits: &[Json]) -> BTreeSet<String> {
    hits.iter()
        .map(|hit| hit["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn text(hit: &Json) -> String {
    let node = &hit["node"];
    ["name", "title", "statement"]
        .iter()
        .find_map(|field| node[field].as_str())
        .unwrap()
        .to_owned()
}

/// Queries whose hits both databases must agree on.
const QUERIES: &[&str] = &[
    "boîte noire",
    "BOITE NOIRE",
    "discrimination",
    "algorithmes biaisés",
    "métropole",
    "metropole loire",
    "Bretagne",
    "île-de-france",
    "vigilance collective",
    "feuille de route",
    "agent conversationnel",
    "crainte",
    "concertation citoyenne",
    "l'IA générative",
    "sobriété numérique",
    "nothing matches this",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_find_the_same_records_for_the_same_query() {
    let mut found_something = 0;
    // On the reference data, then on one record of every kind.
    for reference in [true, false] {
        let (sqlite, postgres) = if reference {
            (
                TestApp::with_reference(Backend::Sqlite).await,
                TestApp::with_reference(Backend::Postgres).await,
            )
        } else {
            let apps = (
                TestApp::new(Backend::Sqlite).await,
                TestApp::new(Backend::Postgres).await,
            );
            seed_everything(&apps.0.db).await;
            seed_everything(&apps.1.db).await;
            apps
        };
        for query in QUERIES {
            let on_sqlite = ids(&search(&sqlite, query).await);
            let on_postgres = ids(&search(&postgres, query).await);
            assert_eq!(on_sqlite, on_postgres, "{query}");
            found_something += usize::from(!on_sqlite.is_empty());
        }
    }
    assert!(found_something >= QUERIES.len(), "{found_something}");
}

on_both_backends! {
    async fn words_match_whatever_their_case_accents_and_inflection(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let hits = search(&app, "boite noire").await;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0]["node"]["__typename"], "Contribution");
        let reference: Json = serde_json::from_str(include_str!("../../data/reference.json")).unwrap();
        let concern = reference["citizen_concerns"].as_array().unwrap().iter()
            .find(|c| c["text"].as_str().unwrap().contains("boîte noire")).unwrap();
        assert_eq!(text(&hits[0]), concern["text"].as_str().unwrap());
        // Plural and singular, with and without accents.
        assert_eq!(ids(&search(&app, "discrimination algorithme").await),
            ids(&search(&app, "DISCRIMINATIONS ALGORITHMES BIAISÉS").await));
        assert_eq!(search(&app, "discrimination").await.len(), 1);
        // Every word must match.
        assert!(search(&app, "boite discrimination").await.is_empty());
        // Findings, by their statement.
        let hits = search(&app, "vigilance").await;
        assert_eq!(hits[0]["node"]["__typename"], "StudyFinding");
        // Ranked: territories whose name holds both words come first.
        let hits = search(&app, "metropole loire").await;
        assert!(hits.len() >= 3);
        let top = vigie::text::fold(&text(&hits[0]));
        assert!(top.contains("metropole") && top.contains("loire"), "{top}");
        let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]), "{scores:?}");
    }

    async fn types_narrow_a_search(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let everything = search(&app, "metropole").await;
        assert!(everything.iter().all(|h| h["node"]["__typename"] == "Territory"));
        assert!(search_in(&app, "metropole", json!(["FINDING", "RESOURCE"])).await.is_empty());
        let hits = search_in(&app, "données", json!(["CONTRIBUTION"])).await;
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|h| h["node"]["__typename"] == "Contribution"));
    }

    async fn punctuation_and_stop_words_alone_find_nothing_without_asking_the_database(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        for query in ["", "   ", "!!! ... ?", "« — »", "\"*:()", "le la les de des", "AND OR NOT NEAR"] {
            let before = app.statements();
            let hits = search(&app, query).await;
            if query.contains("AND") {
                // Operators of either engine are plain words here.
                assert!(hits.is_empty());
                continue;
            }
            assert!(hits.is_empty(), "{query}");
            assert_eq!(app.statements(), before, "{query}");
        }
    }

    async fn the_index_follows_every_write(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        assert_eq!(ids(&search(&app, "conversationnel").await), BTreeSet::from([gid("Deployment", f.deployment)]));
        // An update replaces the old words.
        let deployment = entity::deployment::Entity::find_by_id(f.deployment).one(&app.db.conn).await.unwrap().unwrap();
        let mut changed = deployment.into_active_model();
        changed.title = Set("Tri automatique du courrier".into());
        changed.update(&app.db.conn).await.unwrap();
        assert!(search(&app, "conversationnel").await.is_empty());
        assert_eq!(ids(&search(&app, "courriers").await), BTreeSet::from([gid("Deployment", f.deployment)]));
        // A new record is found at once.
        let added = put(&app.db, resource::ActiveModel {
            title: Set("Fiche pratique : évaluer un algorithme".into()),
            kind: Set(ResourceKind::Sheet),
            ..Default::default()
        }).await;
        assert_eq!(ids(&search(&app, "evaluer").await), BTreeSet::from([gid("Resource", added.id)]));
        // Every text field of its table counts, the optional last ones too.
        let concern = contribution::Entity::find_by_id(f.concern).one(&app.db.conn).await.unwrap().unwrap();
        let mut answered = concern.into_active_model();
        answered.response = Set(Some("La collectivité publiera un registre cartographique".into()));
        answered.update(&app.db.conn).await.unwrap();
        let finding = study_finding::Entity::find_by_id(f.finding).one(&app.db.conn).await.unwrap().unwrap();
        let mut measured = finding.into_active_model();
        measured.metric = Set(Some("Part des agents formés à la cartographie".into()));
        measured.update(&app.db.conn).await.unwrap();
        assert_eq!(
            ids(&search(&app, "cartographie").await),
            BTreeSet::from([gid("Contribution", f.concern), gid("StudyFinding", f.finding)])
        );
        // Cleared, an optional field takes its words out with it.
        let mut cleared = contribution::Entity::find_by_id(f.concern).one(&app.db.conn).await.unwrap().unwrap().into_active_model();
        cleared.response = Set(None);
        cleared.update(&app.db.conn).await.unwrap();
        assert_eq!(ids(&search(&app, "cartographie").await), BTreeSet::from([gid("StudyFinding", f.finding)]));
    }

    async fn hits_come_in_pages_that_keep_their_ranks(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let all = search(&app, "metropole").await;
        assert!(all.len() > 5, "{}", all.len());
        const PAGE: &str = r#"query($q: String!, $after: String) {
          search(query: $q, first: 2, after: $after) { totalCount
            edges { cursor node { rank score node { ... on Territory { id } } } }
            pageInfo { hasNextPage hasPreviousPage endCursor } } }"#;
        let mut paged = Vec::new();
        let mut after = Json::Null;
        loop {
            let data = app.query(PAGE, json!({ "q": "metropole", "after": after })).await;
            let page = &data["search"];
            assert_eq!(page["totalCount"], all.len());
            assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
            let edges = page["edges"].as_array().unwrap();
            assert!(edges.len() <= 2);
            paged.extend(edges.iter().map(|edge| edge["node"].clone()));
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let strip = |hits: &[Json]| -> Vec<(i64, String)> {
            hits.iter().map(|h| (h["rank"].as_i64().unwrap(), h["node"]["id"].as_str().unwrap().to_owned())).collect()
        };
        assert_eq!(strip(&paged), strip(&all));

        // A cursor continues only the search that gave it.
        let first = app.query(PAGE, json!({ "q": "metropole", "after": null })).await;
        let cursor = first["search"]["pageInfo"]["endCursor"].clone();
        for (query, cursor) in [("loire", cursor.clone()), ("metropole", json!("bm90IGEgY3Vyc29y")), ("metropole", json!("%%%"))] {
            let errors = app.errors(PAGE, json!({ "q": query, "after": cursor })).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"], "{query} {cursor}");
            assert_eq!(errors[0]["extensions"]["argument"], "after");
        }
        // Of a narrower search, too.
        let errors = app.errors(r#"query($after: String) { search(query: "metropole", types: [TERRITORY], after: $after) { totalCount } }"#,
            json!({ "after": cursor })).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    }

    async fn bad_searches_get_clear_errors(backend: Backend) {
        let app = TestApp::new(backend).await;
        let long = "mot ".repeat(200);
        let many: String = (0..30).map(|i| format!("mot{i} ")).collect();
        for (query, first, argument) in [(long.as_str(), 10, "query"), (many.as_str(), 10, "query"), ("mot", 101, "first"), ("mot", -1, "first")] {
            let errors = app.errors(SEARCH, json!({ "q": query, "first": first })).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"], "{query} {first}");
            assert_eq!(errors[0]["extensions"]["argument"], argument);
        }
    }
}
