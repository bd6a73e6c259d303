//! The data version: one number that every write to the data the API
//! serves moves forward, in the writing transaction (so only once it
//! commits, and whichever process writes: a replica, the CLI, direct SQL).
//! A replica keeps answers under the version they were computed at, and
//! serves one again only while the version has not moved.
//!
//! Triggers move it: once per statement on PostgreSQL, once per row on
//! SQLite (which has no statement triggers). A table added later must be
//! added to [`TABLES`], or its writes would leave kept answers standing;
//! a test compares this list with the tables in the database.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::kit::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows answers are made of: every table but API keys,
/// idempotency claims and persisted queries, which no answer shows.
pub const TABLES: &[&str] = &[
    "audit_event",
    "axis",
    "charter",
    "charter_signature",
    "concertation",
    "concertation_co_organizer",
    "concertation_format",
    "concertation_programme",
    "concertation_public",
    "contribution",
    "contribution_deployment",
    "contribution_risk_category",
    "deployment",
    "deployment_domain",
    "deployment_organization",
    "deployment_risk",
    "deployment_technique",
    "domain",
    "event",
    "finding_concertation",
    "finding_lever",
    "finding_risk_category",
    "lever",
    "lever_risk_category",
    "network",
    "opportunity",
    "organization",
    "programme_participation",
    "resource",
    "risk_category",
    "search_entry",
    "source",
    "study",
    "study_finding",
    "technique",
    "territory",
];

/// Moves the data version forward.
pub const BUMP: &str = "UPDATE data_version SET version = version + 1 WHERE id = 1";

fn postgres_up() -> Vec<String> {
    let mut statements = vec![format!(
        "CREATE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN {BUMP}; RETURN NULL; END $$"
    )];
    statements.extend(TABLES.iter().map(|table| {
        format!(
            "CREATE TRIGGER data_version_{table} \
             AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
             FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()"
        )
    }));
    statements
}

fn postgres_down() -> Vec<String> {
    let mut statements: Vec<String> = TABLES
        .iter()
        .map(|table| format!("DROP TRIGGER data_version_{table} ON {table}"))
        .collect();
    statements.push("DROP FUNCTION data_version_bump()".into());
    statements
}

const SQLITE_EVENTS: &[&str] = &["insert", "update", "delete"];

fn sqlite_up() -> Vec<String> {
    TABLES
        .iter()
        .flat_map(|table| {
            SQLITE_EVENTS.iter().map(move |event| {
                format!(
                    "CREATE TRIGGER data_version_{table}_{event} AFTER {} ON {table} \
                     BEGIN {BUMP}; END",
                    event.to_uppercase()
                )
            })
        })
        .collect()
}

fn sqlite_down() -> Vec<String> {
    TABLES
        .iter()
        .flat_map(|table| {
            SQLITE_EVENTS
                .iter()
                .map(move |event| format!("DROP TRIGGER data_version_{table}_{event}"))
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("data_version")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let mut statements = vec!["INSERT INTO data_version (id, version) VALUES (1, 0)".into()];
        statements.extend(match manager.get_database_backend() {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        });
        run_all(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            match manager.get_database_backend() {
                DbBackend::Postgres => postgres_down(),
                _ => sqlite_down(),
            },
        )
        .await?;
        manager
            .drop_table(Table::drop().table("data_version").to_owned())
            .await
    }
}
