//! A query that runs past the hub's time limit is stopped and answered
//! TIMEOUT (503); a mutation is not cut short; on PostgreSQL the database
//! stops the statement as well.

use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use entity::enums::KeyRole;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use vigie::{
    error::{AppError, Code},
    graphql::{Api, Limits},
    server::{self, AppState, HttpSettings},
};

use crate::{
    helpers::{Backend, TestDb, execute_sql, http_settings, send_raw, sessions},
    writes::{Answer, post},
};

/// The hub on `db`, with `time_limit`, keeping answers or not.
fn hub(db: &vigie::db::Db, time_limit: Duration, keeps_answers: bool) -> axum::Router {
    let limits = Limits {
        time_limit: Some(time_limit),
        ..Limits::default()
    };
    server::app(AppState::new(
        Api::new(db.conn.clone(), limits),
        HttpSettings {
            answer_cache_bytes: if keeps_answers { 1 << 20 } else { 0 },
            ..http_settings()
        },
    ))
}

const COUNT: &str = "{ territories { totalCount } }";

fn assert_timed_out(answer: &Answer) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(answer.code(), Some("TIMEOUT"), "{}", answer.body);
    let message = answer.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("time limit"), "{message}");
}

on_both_backends! {
    async fn a_query_past_the_time_limit_is_answered_timeout_and_a_mutation_is_not_cut_short(
        backend: Backend
    ) {
        let test_db = TestDb::new(backend).await;
        let (admin, _) = vigie::auth::create_key(&test_db.db.conn, KeyRole::Admin, &[], "admin")
            .await
            .unwrap();
        let limit = Duration::from_millis(300);
        // One connection, which the test takes: requests wait for it far
        // longer than the limit before the pool would give up (10 s).
        let db = vigie::db::connect_with_timeout(&test_db.url, 1, Duration::from_secs(10))
            .await
            .unwrap();
        let router = hub(&db, limit, false);
        let held = db.conn.begin().await.unwrap();

        let started = Instant::now();
        let answer = post(&router, None, COUNT, json!({})).await;
        let elapsed = started.elapsed();
        assert_timed_out(&answer);
        assert!(
            elapsed >= limit && elapsed < limit * 4,
            "answered TIMEOUT after {elapsed:?}"
        );

        // Asked as CSV, the same: a 503, not a 400 as for a query in error.
        let csv = axum::http::Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "text/csv")
            .body(axum::body::Body::from(json!({ "query": COUNT }).to_string()))
            .unwrap();
        let (status, _, body) = send_raw(&router, csv).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"TIMEOUT\""), "{body}");

        // A mutation waits for its connection as long as the pool lets it:
        // here twice the limit, then it is written and acknowledged.
        let create = "mutation($input: CreateTerritoryInput!) {
            createTerritory(input: $input) { slug } }";
        let input = json!({ "input": { "name": "Ville Patiente", "kind": "MUNICIPALITY" } });
        let (created, ()) = tokio::join!(post(&router, Some(&admin), create, input), async {
            tokio::time::sleep(limit * 2).await;
            held.rollback().await.unwrap();
        });
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        assert_eq!(created.data()["createTerritory"]["slug"], "ville-patiente");

        // The pool came through: the query is answered now.
        let answer = post(&router, None, COUNT, json!({})).await;
        assert_eq!(answer.data()["territories"]["totalCount"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_statements_past_the_time_limit_are_stopped_by_the_database() {
    let test_db = TestDb::new(Backend::Postgres).await;
    // Long enough that a busy machine answers well within half as much
    // again.
    let limit = Duration::from_secs(1);
    let db = vigie::db::connect_with_limits(&test_db.url, 8, Duration::from_secs(10), Some(limit))
        .await
        .unwrap();

    // A statement that runs longer is stopped, and its error is TIMEOUT.
    let slept = db.conn.execute_unprepared("SELECT pg_sleep(3)").await;
    let err = AppError::from(slept.expect_err("pg_sleep(3) ran to its end"));
    assert_eq!(err.code(), Code::Timeout);
    assert!(err.public_message().contains("time limit"));

    // Identical anonymous queries asked at once while a lock blocks them:
    // one computes, the others wait for it; then nothing is left of their
    // limit either. All are answered TIMEOUT at about the limit, none
    // computes again.
    let router = hub(&db, limit, true);
    let locker = test_db.db.conn.begin().await.unwrap();
    execute_sql(&locker, "LOCK TABLE territory IN ACCESS EXCLUSIVE MODE").await;
    let started = Instant::now();
    let answers =
        futures_util::future::join_all((0..4).map(|_| post(&router, None, COUNT, json!({})))).await;
    let elapsed = started.elapsed();
    for answer in &answers {
        assert_timed_out(answer);
        assert!(answer.body["errors"][0].get("path").is_none());
    }
    // Computing again, with a limit of their own, would take about twice.
    assert!(elapsed < limit * 3 / 2, "answered after {elapsed:?}");

    // The database stops their statements too: none is left waiting for
    // the lock, which the test still holds.
    let waited = Instant::now();
    while sessions(&test_db.db.conn, "wait_event_type = 'Lock'").await > 0 {
        assert!(
            waited.elapsed() < limit * 4,
            "statements still wait for the lock {:?} after their answers",
            waited.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    locker.rollback().await.unwrap();
    let answer = post(&router, None, COUNT, json!({})).await;
    assert_eq!(answer.data()["territories"]["totalCount"], 0);
    assert!(
        !answers
            .iter()
            .any(|a| a.body.to_string().contains("canceling statement")),
        "the database's words reached a client"
    );
}
