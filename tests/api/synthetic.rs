//! Synthetic data: the counts of its scale, the same rows for the same
//! seed, every name saying it is synthetic, and never into a database that
//! holds data already.

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};
use vigie::synthetic::{Counts, seed};

use crate::helpers::{Backend, TestApp, execute_sql};

const SAMPLE: &str = r#"{
  territories(last: 5) { totalCount nodes { id name slug kind region population parent { id } } }
  deployments(first: 50, orderBy: [{ field: START_MONTH }]) { totalCount nodes {
    id title status startMonth aiActTier territory { id }
    techniques { nodes { key } } risks { nodes { severity category { key } } } } }
  concertations(last: 5) { totalCount nodes { id title startDate participantCount hours formats publics } }
  contributions(last: 20) { totalCount nodes { id kind statement salience deployments { nodes { id } } } }
  organizations { totalCount }
}"#;

async fn sample(app: &TestApp) -> Json {
    app.query(SAMPLE, json!({})).await
}

on_both_backends! {
    async fn synthetic_data_has_the_counts_of_its_scale_and_says_what_it_is(backend: Backend) {
        let app = TestApp::new(backend).await;
        let counts = seed(&app.db.conn, 0.01, 7).await.unwrap();
        assert_eq!(counts, Counts::at(0.01));
        let data = sample(&app).await;
        assert_eq!(data["territories"]["totalCount"], counts.territories);
        assert_eq!(data["deployments"]["totalCount"], counts.deployments);
        assert_eq!(data["concertations"]["totalCount"], counts.concertations);
        assert_eq!(data["contributions"]["totalCount"], counts.contributions);
        assert_eq!(data["organizations"]["totalCount"], counts.organizations);
        for (list, field) in [("territories", "name"), ("deployments", "title"), ("concertations", "title"), ("contributions", "statement")] {
            for node in data[list]["nodes"].as_array().unwrap() {
                assert!(node[field].as_str().unwrap().contains("synthétique"), "{list}: {node}");
            }
        }
        // Written through the store: every record has its creation in the
        // audit trail.
        let records = counts.territories + counts.deployments + counts.concertations
            + counts.contributions + counts.organizations;
        let audited = app.count_rows("audit_event").await;
        assert!(audited > records, "{audited} events for more than {records} records");
        // Linked as the real thing is, and searchable.
        assert!(app.count_rows("deployment_risk").await >= counts.deployments);
        let hits = app.query(r#"{ search(query: "synthétique usage", first: 5) { nodes { score } } }"#, json!({})).await;
        assert_eq!(hits["search"]["nodes"].as_array().unwrap().len(), 5);
        // The reference data stays out of it.
        let err = vigie::reference::load(&app.db.conn).await.unwrap_err();
        assert!(err.to_string().contains("synthetic"), "{err}");
        // New records still get ids of their own (sequences moved past).
        let added = crate::helpers::put(&app.db, entity::territory::ActiveModel {
            name: sea_orm::ActiveValue::Set("Ajout".into()),
            slug: sea_orm::ActiveValue::Set("ajout".into()),
            kind: sea_orm::ActiveValue::Set(entity::enums::TerritoryKind::Other),
            ..Default::default()
        }).await;
        assert_eq!(added.id, counts.territories + 1);
    }

    async fn the_same_seed_gives_the_same_rows(backend: Backend) {
        let first = TestApp::new(backend).await;
        let second = TestApp::new(backend).await;
        let other = TestApp::new(backend).await;
        seed(&first.db.conn, 0.01, 3).await.unwrap();
        seed(&second.db.conn, 0.01, 3).await.unwrap();
        seed(&other.db.conn, 0.01, 4).await.unwrap();
        let sample_first = sample(&first).await;
        assert_eq!(sample_first, sample(&second).await);
        assert_ne!(sample_first, sample(&other).await);
    }

    async fn synthetic_data_never_goes_into_a_database_that_holds_data(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let err = seed(&app.db.conn, 0.01, 1).await.unwrap_err();
        assert!(err.to_string().contains("empty database"), "{err}");
        let fresh = TestApp::new(backend).await;
        seed(&fresh.db.conn, 0.01, 1).await.unwrap();
        assert!(seed(&fresh.db.conn, 0.01, 1).await.is_err());
        assert!(seed(&fresh.db.conn, 0.0, 1).await.is_err());
    }
}

/// Seeding leaves PostgreSQL's visibility map set, so that a count read from
/// an index alone does not visit the table for every row.
#[tokio::test]
async fn seeded_postgres_tables_are_vacuumed() {
    let app = TestApp::new(Backend::Postgres).await;
    seed(&app.db.conn, 0.01, 5).await.unwrap();
    let row = app
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT relpages::BIGINT AS pages, relallvisible::BIGINT AS visible \
             FROM pg_class WHERE relname = 'deployment'",
        ))
        .await
        .unwrap()
        .unwrap();
    let pages: i64 = row.try_get("", "pages").unwrap();
    let visible: i64 = row.try_get("", "visible").unwrap();
    assert!(pages > 0);
    assert_eq!(visible, pages);
}

#[tokio::test]
async fn seeded_postgres_deployment_counts_take_no_more_room_than_a_fresh_copy() {
    let app = TestApp::new(Backend::Postgres).await;
    // Deployments written over several statements: each count rewritten
    // several times, then compacted.
    seed(&app.db.conn, 0.05, 5).await.unwrap();
    execute_sql(
        &app.db.conn,
        "CREATE TABLE tally_copy AS SELECT * FROM deployment_tally",
    )
    .await;
    let row = app
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_relation_size('deployment_tally') AS kept, pg_relation_size('tally_copy') AS fresh, \
             (SELECT COUNT(*) FROM deployment_tally) AS n",
        ))
        .await
        .unwrap()
        .unwrap();
    let kept: i64 = row.try_get("", "kept").unwrap();
    let fresh: i64 = row.try_get("", "fresh").unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    assert!(n > 300, "{n} counts");
    assert_eq!(kept, fresh);
}
