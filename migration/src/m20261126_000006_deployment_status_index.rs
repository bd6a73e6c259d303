//! Deployments by stage, with their territory: the index on `status` also
//! carries `territory_id` and `archived_at`, so that counting deployments by
//! stage and territory (or région), and lists filtered by stage and
//! territory, read the index alone instead of every row of the table.

use sea_orm_migration::prelude::*;

use crate::kit::Tables;

const TABLE: &str = "deployment";
const STAGE: &str = "idx_deployment_status";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Tables::new(manager)
            .index(TABLE, &["status", "territory_id", "archived_at"])
            .await?;
        // The new index starts with `status`: it serves whatever the old one did.
        manager
            .drop_index(Index::drop().name(STAGE).table(TABLE).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Tables::new(manager).index(TABLE, &["status"]).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_deployment_status_territory_id_archived_at")
                    .table(TABLE)
                    .to_owned(),
            )
            .await
    }
}
