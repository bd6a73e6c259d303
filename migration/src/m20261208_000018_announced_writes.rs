//! Writes that announce what they touch, so that kept answers are dropped
//! only when a write touches what they read, and so that writes to
//! different records commit side by side on PostgreSQL.
//!
//! On PostgreSQL the data version no longer moves: every write locked its
//! one row until it committed, so writes committed one at a time. The
//! tables' triggers (see the data version's migration) now announce each
//! statement's table with `NOTIFY` instead — unless the transaction is one
//! of the store's writes (`vigie.tagged` set), which announces the records
//! and territories it touched itself. Every replica listens.
//!
//! On SQLite (one writer at a time) the version still moves with every
//! row. The store's writes also leave in the row the version they ended at
//! (`announced`) and the process that made them (`writer`): a process that
//! reads a version it did not announce itself knows another process wrote
//! (the CLI, direct SQL) and forgets what it kept.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::{kit::run_all, m20261127_000007_data_version::BUMP};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &[&str] = &["announced", "writer"];

/// The trigger function every data table runs once per statement.
fn postgres_function(body: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN {body}; RETURN NULL; END $$"
    )
}

/// A statement's table, announced unless the store's write announces
/// itself. Identical notifications of one transaction are sent once.
const ANNOUNCE: &str = "IF coalesce(current_setting('vigie.tagged', true), '') <> 'on' THEN \
     PERFORM pg_notify('vigie_changes', json_build_object('table', TG_TABLE_NAME)::text); \
     END IF";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements: Vec<String> = COLUMNS
            .iter()
            .map(|name| {
                format!("ALTER TABLE data_version ADD COLUMN {name} BIGINT NOT NULL DEFAULT 0")
            })
            .collect();
        if manager.get_database_backend() == DbBackend::Postgres {
            statements.push(postgres_function(ANNOUNCE));
        }
        run_all(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements: Vec<String> = COLUMNS
            .iter()
            .map(|name| format!("ALTER TABLE data_version DROP COLUMN {name}"))
            .collect();
        if manager.get_database_backend() == DbBackend::Postgres {
            statements.push(postgres_function(BUMP));
        }
        run_all(manager, statements).await
    }
}
