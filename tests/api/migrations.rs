//! The migrations themselves: they undo and redo cleanly, the folded
//! copies of text are filled for rows written before they existed, and the
//! indexes are those they declare.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

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
            .query(r#"{ search(query: "europeenne") { node { ... on Territory { name } } } }"#, json!({}))
            .await;
        assert_eq!(data["search"][0]["node"]["name"], "Métropole Européenne");
    }

    async fn deployments_by_stage_are_indexed_with_their_territory(backend: Backend) {
        let app = TestApp::new(backend).await;
        let conn = &app.db.conn;
        let sql = match backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deployment' \
                 AND name LIKE 'idx_deployment_status%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'deployment' \
                 AND indexname LIKE 'idx_deployment_status%' ORDER BY indexname"
            }
        };
        let names = |rows: Vec<sea_orm::QueryResult>| -> Vec<String> {
            rows.iter().map(|row| row.try_get("", "name").unwrap()).collect()
        };
        let statement = || Statement::from_string(conn.get_database_backend(), sql);
        let found = names(conn.query_all_raw(statement()).await.unwrap());
        // One index, stage first, so that it serves filters on the stage alone.
        assert_eq!(found, ["idx_deployment_status_territory_id_archived_at"]);
        // One step back restores the index on the stage alone.
        Migrator::down(conn, Some(1)).await.unwrap();
        let found = names(conn.query_all_raw(statement()).await.unwrap());
        assert_eq!(found, ["idx_deployment_status"]);
        Migrator::up(conn, None).await.unwrap();
    }
}
