//! A risk as a register states it: free text (`description`), without a
//! category, a severity or a likelihood, none of which registers give. A
//! deployment's risk may now have no category; those that have one keep
//! it, and a deployment has at most one risk per category as before.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::kit::{run_all, sqlite_rebuild};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NOT_NULL: &str = "\"risk_category_id\" integer NOT NULL";
const NULL: &str = "\"risk_category_id\" integer NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: the table's rebuild is all done,
    /// or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            vec!["ALTER TABLE deployment_risk ADD COLUMN description TEXT".into()],
        )
        .await?;
        category_required(manager, false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Risks without a category have no place in the older schema.
        run_all(
            manager,
            vec!["DELETE FROM deployment_risk WHERE risk_category_id IS NULL".into()],
        )
        .await?;
        category_required(manager, true).await?;
        run_all(
            manager,
            vec!["ALTER TABLE deployment_risk DROP COLUMN description".into()],
        )
        .await
    }
}

/// Makes a deployment's risk require a category, or not: in place on
/// PostgreSQL, by rebuilding the table on SQLite.
async fn category_required(manager: &SchemaManager<'_>, required: bool) -> Result<(), DbErr> {
    let (from, to, change) = if required {
        (NULL, NOT_NULL, "SET")
    } else {
        (NOT_NULL, NULL, "DROP")
    };
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            let sql = format!(
                "ALTER TABLE deployment_risk ALTER COLUMN risk_category_id {change} NOT NULL"
            );
            run_all(manager, vec![sql]).await
        }
        _ => sqlite_rebuild(manager, "deployment_risk", |sql| sql.replacen(from, to, 1)).await,
    }
}
