//! The migrations themselves: they undo and redo cleanly, the folded
//! copies of text are filled for rows written before they existed, the
//! indexes are those they declare, and every write to the data moves the
//! data version.

use migration::{Migrator, MigratorTrait};
use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
use serde_json::json;

use crate::{
    fixtures::{Grid, seed_everything, seed_grid},
    helpers::{Backend, TestApp, execute_sql, gid},
};

/// Undoes the migration `name` and those after it, the latest first.
async fn undo_from(conn: &sea_orm::DatabaseConnection, name: &str) {
    let applied = Migrator::get_applied_migrations(conn).await.unwrap();
    let at = applied
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("{name} is not applied"));
    Migrator::down(conn, Some((applied.len() - at) as u32))
        .await
        .unwrap();
}

/// The indexes of `table` whose names start with `prefix`, by name.
async fn indexes(conn: &sea_orm::DatabaseConnection, table: &str, prefix: &str) -> Vec<String> {
    let sql = match conn.get_database_backend() {
        DatabaseBackend::Postgres => format!(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = '{table}' \
             AND indexname LIKE '{prefix}%' ORDER BY indexname"
        ),
        _ => format!(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' \
             AND name LIKE '{prefix}%' ORDER BY name"
        ),
    };
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "name").unwrap())
        .collect()
}

on_both_backends! {
    async fn migrations_go_down_and_up_again(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        Migrator::down(conn, None).await.unwrap();
        assert!(Migrator::get_applied_migrations(conn).await.unwrap().is_empty());
        Migrator::up(conn, None).await.unwrap();
        vigie::reference::load(conn).await.unwrap();
        let data = app.query("{ territories { totalCount } }", json!({})).await;
        assert_eq!(data["territories"]["totalCount"], 28);
    }

    async fn text_written_before_folding_and_search_existed_is_folded_and_indexed(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        // Back to the first migration, write a row as it knew them, forward.
        let applied = Migrator::get_applied_migrations(conn).await.unwrap().len() as u32;
        Migrator::down(conn, Some(applied - 1)).await.unwrap();
        assert_eq!(Migrator::get_applied_migrations(conn).await.unwrap().len(), 1);
        let now = chrono::Utc::now().to_rfc3339();
        conn.execute_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "INSERT INTO territory (name, slug, kind, region, created_at, updated_at) \
                 VALUES ('Métropole Européenne', 'mel', 'METROPOLE', 'Hauts-de-France', '{now}', '{now}')"
            ),
        ))
        .await
        .unwrap();
        Migrator::up(conn, None).await.unwrap();
        let data = app
            .query(
                r#"{ territories(filter: { name: { contains: "EUROPEENNE" }, region: { startsWith: "hauts" } }) { totalCount } }"#,
                json!({}),
            )
            .await;
        assert_eq!(data["territories"]["totalCount"], 1);
        let data = app
            .query(r#"{ search(query: "europeenne") { nodes { node { ... on Territory { name } } } } }"#, json!({}))
            .await;
        assert_eq!(data["search"]["nodes"][0]["node"]["name"], "Métropole Européenne");
    }

    async fn deployments_by_stage_are_indexed_with_their_territory(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        // One index, stage first, so that it serves filters on the stage alone.
        assert_eq!(
            indexes(conn, "deployment", "idx_deployment_status").await,
            ["idx_deployment_status_territory_id_archived_at"]
        );
        // Undone (with the migrations after it), it restores the index on
        // the stage alone.
        undo_from(conn, "m20261126_000006_deployment_status_index").await;
        assert_eq!(indexes(conn, "deployment", "idx_deployment_status").await, ["idx_deployment_status"]);
        Migrator::up(conn, None).await.unwrap();
    }

    async fn persisted_queries_are_indexed_by_age(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        assert_eq!(indexes(conn, "persisted_query", "idx_").await, ["idx_persisted_query_created_at_hash"]);
        undo_from(conn, "m20261127_000010_persisted_query_age").await;
        assert!(indexes(conn, "persisted_query", "idx_").await.is_empty());
        Migrator::up(conn, None).await.unwrap();
    }

    async fn a_persons_address_is_removed_from_the_network_and_its_history(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let conn = &app.db.conn;
        undo_from(conn, "m20261207_000012_verbatim_sources").await;
        let address = "une.personne@example.org";
        execute_sql(conn, &format!("UPDATE network SET contact_email = '{address}'")).await;
        execute_sql(conn, &format!("UPDATE audit_event SET after = REPLACE(after, '\"contact_email\":null', \
            '\"contact_email\":\"{address}\"') WHERE record_type = 'Network'")).await;
        let holding = format!("audit_event WHERE after LIKE '%{address}%'");
        assert_eq!(app.count_rows(&holding).await, 1);
        Migrator::up(conn, None).await.unwrap();
        assert_eq!(app.count_rows(&holding).await, 0);
        assert_eq!(app.count_rows("network WHERE contact_email IS NOT NULL").await, 0);
        let history = app.query("{ networks { nodes { history { nodes { after } } } } }", json!({})).await;
        assert!(!history.to_string().contains(address), "{history}");
        assert!(history.to_string().contains("contact_email"), "{history}");
    }

    async fn declared_risks_keep_their_category_and_risks_in_words_need_none(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        let f = seed_everything(&app.db).await;
        undo_from(conn, "m20261207_000017_stated_risks").await;
        let before = app.count_rows("deployment_risk WHERE risk_category_id IS NOT NULL").await;
        assert!(before > 0);
        Migrator::up(conn, None).await.unwrap();
        assert_eq!(app.count_rows("deployment_risk WHERE risk_category_id IS NOT NULL").await, before);
        assert_eq!(app.count_rows("deployment_risk").await, before);
        // A risk in words, without a category; announced as before.
        let insert = format!("INSERT INTO deployment_risk (deployment_id, mitigation_status, description) \
            VALUES ({}, 'NONE', 'Un risque dit en mots')", f.deployment);
        assert_eq!(announced(conn, &insert).await, Some("deployment_risk".into()));
        let risks = app.query("query($id: ID!) { node(id: $id) { ... on Deployment { risks { nodes { category { key } description } } } } }",
            json!({ "id": gid("Deployment", f.deployment) })).await;
        assert!(risks["node"]["risks"]["nodes"].as_array().unwrap().iter()
            .any(|r| r["category"].is_null() && r["description"] == "Un risque dit en mots"), "{risks}");
    }

    async fn deployments_written_before_their_counts_were_kept_are_counted(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        undo_from(conn, "m20261127_000008_deployment_tally").await;
        seed_grid(&app.db, Grid { territories: 6, deployments_per_territory: 5, concerns_per_deployment: 0 }).await;
        execute_sql(conn, "UPDATE deployment SET archived_at = '2026-01-01 00:00:00' WHERE id % 4 = 0").await;
        Migrator::up(conn, None).await.unwrap();
        let rows = async |sql: &str| -> Vec<(String, i64, i64)> {
            conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .unwrap()
                .iter()
                .map(|row| (row.try_get("", "status").unwrap(), row.try_get("", "territory_id").unwrap(), row.try_get("", "n").unwrap()))
                .collect()
        };
        let kept = rows("SELECT status, territory_id, CAST(deployments AS BIGINT) AS n FROM deployment_tally ORDER BY status, territory_id").await;
        let counted = rows("SELECT status, territory_id, COUNT(*) AS n FROM deployment WHERE archived_at IS NULL \
            GROUP BY status, territory_id ORDER BY status, territory_id").await;
        assert_eq!(kept.len(), 12);
        assert_eq!(kept, counted);
    }

    async fn every_table_an_answer_reads_announces_its_writes(backend: Backend) {
        let app = TestApp::new(backend).await;
        let db = &app.db.conn;
        let sql = match db.get_database_backend() {
            DatabaseBackend::Postgres => "SELECT table_name AS name FROM information_schema.tables \
                WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            _ => "SELECT name FROM sqlite_master WHERE type = 'table' \
                AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_fts%'",
        };
        let tables: BTreeSet<String> = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect();
        // What no answer shows (keys, replays, stored queries, what a
        // register's server said), the version itself, and the deployment
        // counts, which only the deployments' own writes (versioned) move.
        let unversioned = ["api_key", "api_key_territory", "idempotency_key", "persisted_query",
            "register_fetch", "seaql_migrations", "data_version", "deployment_tally"];
        let expected: BTreeSet<String> = tables
            .iter()
            .filter(|t| !unversioned.contains(&t.as_str()))
            .cloned()
            .collect();
        let versioned: BTreeSet<String> =
            migration::versioned_tables().iter().map(|t| t.to_string()).collect();
        assert_eq!(versioned, expected);

        // Each is announced, by insert, update and delete alike.
        let f = seed_everything(&app.db).await;
        for (statement, table) in [
            (format!("DELETE FROM deployment_domain WHERE deployment_id = {} AND domain_id = {}", f.deployment, f.domain), "deployment_domain"),
            (format!("INSERT INTO deployment_domain (deployment_id, domain_id) VALUES ({}, {})", f.deployment, f.domain), "deployment_domain"),
            (format!("UPDATE territory SET name = name WHERE id = {}", f.commune), "territory"),
        ] {
            assert_eq!(announced(db, &statement).await, Some(table.into()), "{statement}");
        }
        // What no answer shows is not.
        assert_eq!(announced(db, "INSERT INTO persisted_query (hash, query) VALUES ('abc', '{ a }')").await, None);
        // On PostgreSQL, a write of the store announces itself, not its
        // tables (its transaction says so), and the version stays put.
        if db.get_database_backend() == DatabaseBackend::Postgres {
            let version = vigie::db::DataState::read(db).await.unwrap().version;
            let statement = format!("UPDATE territory SET name = name WHERE id = {}", f.commune);
            let tagged = format!("BEGIN; {}; {statement}; COMMIT", vigie::db::TAGGED_WRITE);
            assert_eq!(announced(db, &tagged).await, None);
            assert_eq!(vigie::db::DataState::read(db).await.unwrap().version, version);
        }
    }
}

/// What direct SQL announces (see `vigie::store::changes`): on SQLite, that
/// the data version moved (the table is not told, and is given as the
/// first word after the statement's verb); on PostgreSQL, the table a
/// notification names.
async fn announced(db: &sea_orm::DatabaseConnection, statement: &str) -> Option<String> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let version = vigie::db::DataState::read(db).await.unwrap().version;
        execute_sql(db, statement).await;
        let moved = vigie::db::DataState::read(db).await.unwrap().version > version;
        let table = statement
            .split_whitespace()
            .skip_while(|word| !["FROM", "INTO", "UPDATE"].contains(word))
            .nth(1)
            .or_else(|| statement.split_whitespace().nth(1))?;
        return moved.then(|| table.to_owned());
    }
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(
        &sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    listener
        .listen(vigie::store::changes::CHANNEL)
        .await
        .unwrap();
    db.execute_unprepared(statement).await.unwrap();
    // A notification is delivered on commit; wait a little for one.
    match tokio::time::timeout(std::time::Duration::from_millis(500), listener.recv()).await {
        Ok(notification) => {
            let payload: serde_json::Value =
                serde_json::from_str(notification.unwrap().payload()).unwrap();
            payload["table"].as_str().map(str::to_owned)
        }
        Err(_) => None,
    }
}

/// The tally rows written, inserted or deleted in the current transaction.
async fn tally_writes(txn: &impl ConnectionTrait) -> i64 {
    txn.query_one_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_xact_user_tables \
         WHERE relname = 'deployment_tally'",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

#[tokio::test]
async fn on_postgres_a_statement_writes_each_deployment_count_once() {
    let app = TestApp::new(Backend::Postgres).await;
    let conn = &app.db.conn;
    seed_grid(
        &app.db,
        Grid {
            territories: 3,
            deployments_per_territory: 0,
            concerns_per_deployment: 0,
        },
    )
    .await;
    // 100 pilots in each territory, in one statement, then all of them in
    // production: 3 counts added, then 3 moved to their new stage and 3
    // removed (the pilots'), in one transaction.
    let load = async || -> (i64, Vec<(String, i64, i64)>) {
        let txn = conn.begin().await.unwrap();
        execute_sql(&txn, "INSERT INTO deployment (territory_id, title, status, ai_act_tier) \
            SELECT t.id, 'Lot ' || g, 'PILOT', 'MINIMAL' FROM territory t, generate_series(1, 100) g").await;
        execute_sql(&txn, "UPDATE deployment SET status = 'PRODUCTION'").await;
        let writes = tally_writes(&txn).await;
        let rows = async |sql: &str| {
            txn.query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
                .await
                .unwrap()
                .iter()
                .map(|row| {
                    (
                        row.try_get("", "status").unwrap(),
                        row.try_get("", "territory_id").unwrap(),
                        row.try_get("", "n").unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let kept = rows("SELECT status, territory_id, CAST(deployments AS BIGINT) AS n FROM deployment_tally ORDER BY 1, 2").await;
        let counted = rows(
            "SELECT status, territory_id, COUNT(*) AS n FROM deployment WHERE archived_at IS NULL \
            GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .await;
        assert_eq!(kept, counted);
        txn.rollback().await.unwrap();
        (writes, kept)
    };
    let (writes, kept) = load().await;
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .all(|(status, _, n)| status == "PRODUCTION" && *n == 100),
        "{kept:?}"
    );
    assert_eq!(writes, 12);
    // Counted row by row, as the tally's first migration does, the same
    // load writes them hundreds of times.
    undo_from(conn, "m20261127_000009_tally_per_statement").await;
    let (writes, _) = load().await;
    assert!(writes > 600, "{writes} writes");
    Migrator::up(conn, None).await.unwrap();
}

/// Migrations carry their own copies of the functions they ran (folding,
/// search words): they must agree with the hub's today. When the hub's
/// change parts them, it needs a migration of its own that folds or
/// indexes again, and this test is where it is told.
#[test]
fn the_migrations_frozen_copies_agree_with_the_hub() {
    for text in [
        "« Sécurité des données »",
        "Des algorithmes biaisés",
        "Œuvre, Æsir, Straße, Łódź, Đakovo, Ørsted",
        "l'opacité, l'effet « boîte noire »",
        "",
    ] {
        assert_eq!(
            migration::frozen::fold(text),
            entity::text::fold(text),
            "{text}"
        );
        assert_eq!(
            migration::frozen::words(text),
            entity::search::words(text),
            "{text}"
        );
    }
    // The search columns the migration indexed are those declared then.
    let declared: Vec<(&str, Vec<&str>)> = entity::records::all()
        .iter()
        .filter(|record| !record.search.is_empty())
        .map(|record| (record.table, record.search.clone()))
        .collect();
    let frozen: Vec<(&str, Vec<&str>)> = migration::frozen::SEARCHABLE
        .iter()
        .map(|(table, fields)| (*table, fields.to_vec()))
        .collect();
    assert_eq!(frozen, declared);
}
