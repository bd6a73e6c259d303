//! Kept answers: an anonymous query asked again is answered from the kept
//! answer while no write has committed, whoever wrote (a mutation, direct
//! SQL); never for a request with an API key, never across media types,
//! never with errors.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use sea_orm::TransactionTrait;
use serde_json::{Value as Json, json};
use vigie::server::{self, AppState, HttpSettings};

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, execute_sql, gid, send_raw},
    writes::keys,
};

const QUERY: &str = "query Uses($slug: String!) {
    territory(slug: $slug) { name deployments { totalCount nodes { title } } }
}";

/// Sends a query and gives the status and body, and how many SQL
/// statements answering it took.
async fn ask(
    app: &TestApp,
    router: &Router,
    key: Option<&str>,
    accept: &str,
    query: &str,
    variables: Json,
) -> (StatusCode, String, u64) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let before = app.statements();
    let (status, _, body) = send_raw(router, request.body(Body::from(body)).unwrap()).await;
    (status, body, app.statements() - before)
}

const JSON: &str = "application/json";

async fn data_version(app: &TestApp) -> i64 {
    vigie::db::data_version(&app.db.conn).await.unwrap()
}

on_both_backends! {
    async fn the_same_question_asked_at_once_is_computed_once(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let router = app.router();
        let vars = json!({ "slug": "ville-de-test" });
        let (status, _, computed) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!(status, StatusCode::OK);
        // A write drops the kept answer; then eight clients ask at once.
        execute_sql(&app.db.conn, &format!("UPDATE deployment SET title = 'Réécrit' WHERE id = {}", f.deployment)).await;
        let before = app.statements();
        let answers = futures_util::future::join_all(
            (0..8).map(|_| ask(&app, &router, None, JSON, QUERY, vars.clone())),
        )
        .await;
        let statements = app.statements() - before;
        let (status, first, _) = &answers[0];
        assert_eq!(*status, StatusCode::OK, "{first}");
        assert!(first.contains("Réécrit"), "{first}");
        assert!(answers.iter().all(|(_, answer, _)| answer == first));
        // Each read the data version; one of them computed the answer.
        assert_eq!(statements, 8 + (computed - 1));
    }

    async fn anonymous_answers_are_kept_until_a_write_commits(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let vars = json!({ "slug": "ville-de-test" });

        // Computed once; then sent again for the one read of the version.
        let (status, first, computed) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert!(first.contains("\"totalCount\":1"), "{first}");
        assert!(computed > 1, "{computed} statements");
        let (_, again, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((again.as_str(), statements), (first.as_str(), 1));

        // Other variables, another media type: other answers.
        let (_, other, statements) =
            ask(&app, &router, None, JSON, QUERY, json!({ "slug": "agglomeration-de-test" })).await;
        assert_ne!(other, first);
        assert!(statements > 1);
        let (status, csv, statements) =
            ask(&app, &router, None, "text/csv", "query Uses($slug: String!) { territories(filter: { slug: { eq: $slug } }) { nodes { name } } }", vars.clone()).await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert!(csv.starts_with("name\r\n"), "{csv}");
        assert!(statements > 1);
        let (_, csv_again, statements) =
            ask(&app, &router, None, "text/csv", "query Uses($slug: String!) { territories(filter: { slug: { eq: $slug } }) { nodes { name } } }", vars.clone()).await;
        assert_eq!((csv_again, statements), (csv, 1));

        // With an API key, always computed (and never served a kept one).
        for _ in 0..2 {
            let (_, keyed, statements) =
                ask(&app, &router, Some(&keys.editor), JSON, QUERY, vars.clone()).await;
            assert_eq!(keyed, first);
            assert!(statements > 2, "{statements} statements");
        }

        // A mutation commits: the next anonymous answer is computed, and new.
        let version = data_version(&app).await;
        let update = json!({ "query": "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { title } }",
            "variables": { "input": { "id": gid("Deployment", f.deployment), "expectedVersion": 1, "title": "Titre revu" } } });
        let (status, updated, _) = ask(&app, &router, Some(&keys.editor), JSON,
            update["query"].as_str().unwrap(), update["variables"].clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(updated.contains("Titre revu"), "{updated}");
        assert!(data_version(&app).await > version);
        let (_, after, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert!(after.contains("Titre revu"), "{after}");
        assert_eq!(after, first.replace(after_title(&first), "Titre revu"));
        assert!(statements > 1);
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept.as_str(), statements), (after.as_str(), 1));

        // Direct SQL (another process, the CLI): the same.
        execute_sql(&app.db.conn, &format!("UPDATE deployment SET title = 'Écrit en SQL' WHERE id = {}", f.deployment)).await;
        let (_, direct, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert!(direct.contains("Écrit en SQL"), "{direct}");
        assert!(statements > 1);

        // A transaction rolled back leaves the version, and the kept answer.
        let version = data_version(&app).await;
        let txn = app.db.conn.begin().await.unwrap();
        execute_sql(&txn, &format!("UPDATE deployment SET title = 'Jamais écrit' WHERE id = {}", f.deployment)).await;
        txn.rollback().await.unwrap();
        assert_eq!(data_version(&app).await, version);
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept, statements), (direct, 1));
    }

    async fn answers_with_errors_are_not_kept(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_everything(&app.db).await;
        let router = app.router();
        // Fails on a field: computed each time.
        let failing = "{ a: territories(first: 1) { nodes { name } } b: territories(first: 1000) { totalCount } }";
        for _ in 0..2 {
            let (status, body, statements) = ask(&app, &router, None, JSON, failing, json!({})).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.contains("BAD_USER_INPUT"), "{body}");
            assert!(statements > 1, "{statements} statements: {body}");
        }
        // A CSV request without a list: 406 each time.
        for _ in 0..2 {
            let (status, _, _) = ask(&app, &router, None, "text/csv", "{ territories { totalCount } }", json!({})).await;
            assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
        }
    }

    async fn no_answer_is_kept_when_the_budget_is_zero(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_everything(&app.db).await;
        let router = server::app(AppState::new(
            app.api.clone(),
            HttpSettings { answer_cache_bytes: 0, ..Default::default() },
        ));
        let (_, first, computed) = ask(&app, &router, None, JSON, QUERY, json!({ "slug": "ville-de-test" })).await;
        let (_, again, statements) = ask(&app, &router, None, JSON, QUERY, json!({ "slug": "ville-de-test" })).await;
        assert_eq!(again, first);
        // Computed again, and the version never read.
        assert_eq!(statements, computed);
        assert!(statements > 1);
    }
}

/// The title of the first deployment in an answer.
fn after_title(body: &str) -> &str {
    let start = body.find("\"title\":\"").unwrap() + "\"title\":\"".len();
    let end = start + body[start..].find('"').unwrap();
    &body[start..end]
}
