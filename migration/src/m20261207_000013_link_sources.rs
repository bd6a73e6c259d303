//! Links with a source of their own: the links between facts that the
//! document sets side by side and Vigie's editors joined (a concern to its
//! risk categories, a lever to the risks it mitigates, a learning to its
//! risks and levers) name the source of that choice.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::kit::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The link tables that gain a `source_id`.
pub const TABLES: &[&str] = &[
    "contribution_risk_category",
    "lever_risk_category",
    "finding_risk_category",
    "finding_lever",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let kind = if manager.get_database_backend() == DbBackend::Postgres {
            "BIGINT"
        } else {
            "INTEGER"
        };
        run_all(
            manager,
            TABLES
                .iter()
                .map(|table| {
                    format!(
                        "ALTER TABLE {table} ADD COLUMN source_id {kind} \
                         REFERENCES source (id) ON DELETE RESTRICT"
                    )
                })
                .collect(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            TABLES
                .iter()
                .map(|table| format!("ALTER TABLE {table} DROP COLUMN source_id"))
                .collect(),
        )
        .await
    }
}
