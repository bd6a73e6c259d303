//! Kept answers: an anonymous query asked again is answered from the kept
//! answer until a write touches what it read, whoever wrote (a mutation,
//! another replica, direct SQL); never for a request with an API key,
//! never across media types, never with errors.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use serde_json::{Value as Json, json};
use vigie::server::{self, AppState, HttpSettings};

use crate::{
    fixtures::{Grid, seed_everything, seed_grid},
    helpers::{Backend, TestApp, execute_sql, gid, send_raw},
    writes::keys,
};

pub const QUERY: &str = "query Uses($slug: String!) {
    territory(slug: $slug) { name deployments { totalCount nodes { title } } }
}";

/// Sends a query and gives the status and body, and how many SQL
/// statements answering it took.
pub async fn ask(
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

pub const JSON: &str = "application/json";

/// The statements a kept answer costs: on SQLite the data version's state
/// (another process may have written), on PostgreSQL none (writes are
/// announced).
fn kept_cost(app: &TestApp) -> u64 {
    match app.db.conn.get_database_backend() {
        DatabaseBackend::Postgres => 0,
        _ => 1,
    }
}

/// Waits until the API hears of every write (on PostgreSQL, once it
/// listens).
pub async fn hearing(api: &vigie::graphql::Api) {
    let start = std::time::Instant::now();
    while !api.changes().hearing() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the API never listened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asks until the answer holds `text` (a write announced by `NOTIFY`
/// arrives a little after it commits); gives it and its statements.
pub async fn until_it_holds(
    app: &TestApp,
    router: &Router,
    vars: &Json,
    text: &str,
) -> (String, u64) {
    let start = std::time::Instant::now();
    loop {
        let (_, body, statements) = ask(app, router, None, JSON, QUERY, vars.clone()).await;
        if body.contains(text) {
            return (body, statements);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never heard of the write: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Updates a deployment's title through the API, as `key`'s editor.
pub async fn retitle(
    app: &TestApp,
    router: &Router,
    key: &str,
    id: i64,
    version: i32,
    title: &str,
) {
    let (status, updated, _) = ask(app, router, Some(key), JSON,
        "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { title } }",
        json!({ "input": { "id": gid("Deployment", id), "expectedVersion": version, "title": title } })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(updated.contains(title), "{updated}");
}

on_both_backends! {
    async fn the_same_question_asked_at_once_is_computed_once(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let router = app.router();
        let vars = json!({ "slug": "ville-de-test" });
        hearing(&app.api).await;
        let keys = keys(&app).await;
        let (status, _, computed) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!(status, StatusCode::OK);
        // A write drops the kept answer; then eight clients ask at once.
        retitle(&app, &router, &keys.editor, f.deployment, 1, "Réécrit").await;
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
        // Each looked (on SQLite, read the data version); one of them
        // computed the answer.
        let cost = kept_cost(&app);
        assert_eq!(statements, 8 * cost + (computed - cost));
    }

    async fn anonymous_answers_are_kept_until_a_write_touches_them(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        hearing(&app.api).await;
        let cost = kept_cost(&app);
        let vars = json!({ "slug": "ville-de-test" });

        // Computed once; then sent again for the one read of the version.
        let (status, first, computed) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert!(first.contains("\"totalCount\":1"), "{first}");
        assert!(computed > 1, "{computed} statements");
        let (_, again, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((again.as_str(), statements), (first.as_str(), cost));

        // Other variables, another media type: other answers.
        let elsewhere = json!({ "slug": "agglomeration-de-test" });
        let (_, other, statements) = ask(&app, &router, None, JSON, QUERY, elsewhere.clone()).await;
        assert_ne!(other, first);
        assert!(statements > 1);
        let (status, csv, statements) =
            ask(&app, &router, None, "text/csv", "query Uses($slug: String!) { territories(filter: { slug: { eq: $slug } }) { nodes { name } } }", vars.clone()).await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert!(csv.starts_with("name\r\n"), "{csv}");
        assert!(statements > cost);
        let (_, csv_again, statements) =
            ask(&app, &router, None, "text/csv", "query Uses($slug: String!) { territories(filter: { slug: { eq: $slug } }) { nodes { name } } }", vars.clone()).await;
        assert_eq!((csv_again, statements), (csv, cost));

        // With an API key, always computed (and never served a kept one).
        for _ in 0..2 {
            let (_, keyed, statements) =
                ask(&app, &router, Some(&keys.editor), JSON, QUERY, vars.clone()).await;
            assert_eq!(keyed, first);
            assert!(statements > 2, "{statements} statements");
        }

        // A mutation of the town's deployment commits: the town's next
        // anonymous answer is computed, and new, before the mutation has
        // answered; the grouping's answer, which read none of it, is kept.
        retitle(&app, &router, &keys.editor, f.deployment, 1, "Titre revu").await;
        let (_, after, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert!(after.contains("Titre revu"), "{after}");
        assert_eq!(after, first.replace(after_title(&first), "Titre revu"));
        assert!(statements > 1);
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept.as_str(), statements), (after.as_str(), cost));
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, elsewhere.clone()).await;
        assert_eq!((kept.as_str(), statements), (other.as_str(), cost));

        // Direct SQL (another process, the CLI): the same, at worst for
        // every answer that read the table.
        execute_sql(&app.db.conn, &format!("UPDATE deployment SET title = 'Écrit en SQL' WHERE id = {}", f.deployment)).await;
        let (direct, _) = until_it_holds(&app, &router, &vars, "Écrit en SQL").await;
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept.as_str(), statements), (direct.as_str(), cost));

        // A transaction rolled back leaves the kept answer.
        let txn = app.db.conn.begin().await.unwrap();
        execute_sql(&txn, &format!("UPDATE deployment SET title = 'Jamais écrit' WHERE id = {}", f.deployment)).await;
        txn.rollback().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, kept, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept, statements), (direct, cost));
    }

    async fn get_answers_name_what_they_read_for_caches_to_purge(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let router = app.router();
        let query = serde_urlencoded::to_string([
            ("query", QUERY),
            ("variables", r#"{"slug":"ville-de-test"}"#),
        ])
        .unwrap();
        let request = Request::builder().uri(format!("/graphql?{query}")).body(Body::empty()).unwrap();
        let (status, headers, body) = send_raw(&router, request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let surrogate: Vec<&str> = headers["surrogate-key"].to_str().unwrap().split(' ').collect();
        let territory = format!("Territory/{}", f.commune);
        let deployments = format!("Deployment/territory/{}", f.commune);
        for key in [territory.as_str(), deployments.as_str(), "Territory/any", "Deployment/any"] {
            assert!(surrogate.contains(&key), "{key} in {surrogate:?}");
        }
        // Nothing of another territory, nor every deployment.
        assert!(!surrogate.contains(&"Deployment"), "{surrogate:?}");
        assert!(!surrogate.iter().any(|key| key.starts_with("Territory/") && *key != territory && *key != "Territory/any"));
        let cache_tag: Vec<&str> = headers["cache-tag"].to_str().unwrap().split(',').collect();
        assert_eq!(cache_tag, surrogate);
        // A list of every deployment is named by the type.
        let request = Request::builder()
            .uri("/graphql?query=%7B%20deployments%20%7B%20totalCount%20%7D%20%7D")
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = send_raw(&router, request).await;
        assert_eq!(headers["surrogate-key"], "Deployment Deployment/any");
        // With a key, an answer is nobody else's: no keys.
        let keys = keys(&app).await;
        let request = Request::builder()
            .uri(format!("/graphql?{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", keys.editor))
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = send_raw(&router, request).await;
        assert!(!headers.contains_key("surrogate-key"));
    }

    async fn a_write_on_one_replica_drops_what_another_kept(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let writer = app.router();
        // A second replica on the same database, with its own kept answers.
        let other = vigie::graphql::Api::new(app.db.conn.clone(), vigie::graphql::Limits::default());
        let reader = server::app(AppState::new(other.clone(), crate::helpers::http_settings()));
        hearing(&app.api).await;
        hearing(&other).await;
        let vars = json!({ "slug": "ville-de-test" });
        let elsewhere = json!({ "slug": "agglomeration-de-test" });
        let (_, first, _) = ask(&app, &reader, None, JSON, QUERY, vars.clone()).await;
        let (_, other_first, _) = ask(&app, &reader, None, JSON, QUERY, elsewhere.clone()).await;
        let (_, kept, statements) = ask(&app, &reader, None, JSON, QUERY, vars.clone()).await;
        assert_eq!((kept.as_str(), statements), (first.as_str(), kept_cost(&app)));

        retitle(&app, &writer, &keys.editor, f.deployment, 1, "Écrit ailleurs").await;
        until_it_holds(&app, &reader, &vars, "Écrit ailleurs").await;
        let (_, kept, statements) = ask(&app, &reader, None, JSON, QUERY, elsewhere).await;
        assert_eq!(kept, other_first);
        if app.db.conn.get_database_backend() == DatabaseBackend::Postgres {
            // The write's tags travelled with its announcement: what the
            // other replica kept of another territory stays.
            assert_eq!(statements, 0);
        }
    }

    async fn concurrent_writers_lose_nothing_and_leave_no_stale_answer(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_grid(&app.db, Grid { territories: 6, deployments_per_territory: 4, concerns_per_deployment: 0 }).await;
        let (admin, _) = vigie::auth::create_key(&app.db.conn, entity::enums::KeyRole::Admin, &[], "Réseau").await.unwrap();
        let router = app.router();
        hearing(&app.api).await;
        let slugs: Vec<String> = app
            .db
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.conn.get_database_backend(),
                "SELECT slug FROM territory ORDER BY id",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "slug").unwrap())
            .collect();
        let ids: Vec<i64> = (1..=24).collect();
        const WIDGET: &str = "query($slug: String!) { territory(slug: $slug) { deployments(first: 50) { nodes { id title version } } } }";
        const ROUNDS: i32 = 3;
        let done = std::sync::atomic::AtomicBool::new(false);
        let write = async |writer: i64| {
            let mut written = Vec::new();
            for round in 1..=ROUNDS {
                for id in ids.iter().filter(|id| *id % 4 == writer) {
                    let title = format!("Écrit {writer}.{round}.{id}");
                    let (status, body, _) = ask(&app, &router, Some(&admin), JSON,
                        "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { title version } }",
                        json!({ "input": { "id": gid("Deployment", *id), "expectedVersion": round, "title": title } })).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert!(body.contains(&title) && !body.contains("errors"), "{body}");
                    written.push((*id, title));
                }
            }
            written
        };
        let read = async |reader: usize| {
            let mut asked = 0;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let slug = &slugs[(reader + asked) % slugs.len()];
                let (status, body, _) = ask(&app, &router, None, JSON, WIDGET, json!({ "slug": slug })).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                asked += 1;
                // A kept answer may come without waiting: let the writers on.
                tokio::task::yield_now().await;
            }
            asked
        };
        let writers = async {
            let written = futures_util::future::join_all((0..4).map(write)).await;
            done.store(true, std::sync::atomic::Ordering::Release);
            written
        };
        let (written, asked) = tokio::join!(writers, futures_util::future::join_all((0..4).map(read)));
        assert!(asked.iter().sum::<usize>() > 0);
        // Every write acknowledged is there, at its version.
        let last: std::collections::HashMap<i64, String> = written.into_iter().flatten().collect();
        assert_eq!(last.len(), 24);
        for (id, title) in &last {
            let count = app
                .count_rows(&format!("deployment WHERE id = {id} AND version = {} AND title = '{title}'", ROUNDS + 1))
                .await;
            assert_eq!(count, 1, "deployment {id}");
        }
        // No kept answer outlived a write it read: each territory's
        // anonymous answer is the one computed now, with a key.
        for slug in &slugs {
            let vars = json!({ "slug": slug });
            let (_, anonymous, _) = ask(&app, &router, None, JSON, WIDGET, vars.clone()).await;
            let (_, computed, _) = ask(&app, &router, Some(&admin), JSON, WIDGET, vars).await;
            assert_eq!(anonymous, computed, "{slug}");
        }
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
            assert!(statements > kept_cost(&app), "{statements} statements: {body}");
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

/// A replica whose listening connection is lost keeps nothing, and says so
/// in `/ready`, until it listens again, by itself; then it forgets what it
/// kept before (writes may have gone unheard meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_stops_listening_keeps_nothing_until_it_listens_again() {
    let app = TestApp::new(Backend::Postgres).await;
    seed_everything(&app.db).await;
    let router = app.router();
    hearing(&app.api).await;
    let vars = json!({ "slug": "ville-de-test" });
    let (_, first, _) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
    let (_, _, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
    assert_eq!(statements, 0, "kept");
    let ready = async || {
        let request = Request::builder()
            .uri("/ready")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send_raw(&router, request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str::<Json>(&body).unwrap()
    };
    assert!(ready().await.get("degraded").is_none());

    // Its listening connection is cut (a failover, a proxy's timeout).
    execute_sql(
        &app.db.conn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN%' AND datname = current_database()",
    )
    .await;
    let start = std::time::Instant::now();
    while app.api.changes().hearing() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the lost connection went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let degraded = ready().await;
    assert!(
        degraded["degraded"].to_string().contains("kept answers"),
        "{degraded}"
    );
    // Meanwhile every answer is computed, and right.
    let (status, again, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
    if !app.api.changes().hearing() {
        assert_eq!((status, again.as_str()), (StatusCode::OK, first.as_str()));
        assert!(statements > 0);
    }

    // It listens again by itself, and keeps answers again.
    hearing(&app.api).await;
    assert!(ready().await.get("degraded").is_none());
    let (_, computed, statements) = ask(&app, &router, None, JSON, QUERY, vars.clone()).await;
    assert_eq!(computed, first);
    assert!(statements > 0, "forgotten when it listened again");
    let (_, _, statements) = ask(&app, &router, None, JSON, QUERY, vars).await;
    assert_eq!(statements, 0, "kept again");
}
