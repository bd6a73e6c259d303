//! Deployments by stage, with their territory: the index on `status` also
//! carries `territory_id` and `archived_at`, so that counting deployments by
//! stage and territory (or région), and lists filtered by stage and
//! territory, read the index alone instead of every row of the table.

use sea_orm_migration::prelude::*;

use crate::kit::{Tables, index_name};

const TABLE: &str = "deployment";
const STAGE: &[&str] = &["status"];
const STAGE_AND_TERRITORY: &[&str] = &["status", "territory_id", "archived_at"];

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Creates the index on `create`, then drops the one on `drop`.
async fn replace(
    manager: &SchemaManager<'_>,
    create: &[&'static str],
    drop: &[&str],
) -> Result<(), DbErr> {
    Tables::new(manager).index(TABLE, create).await?;
    let name = index_name(TABLE, drop, false);
    manager
        .drop_index(Index::drop().name(name).table(TABLE).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The new index starts with `status`: it serves whatever the old one did.
        replace(manager, STAGE_AND_TERRITORY, STAGE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(manager, STAGE, STAGE_AND_TERRITORY).await
    }
}
