//! What keeps a register's copy in sync: for each entry, what the register
//! said of it at the last import (the fields it owns, as JSON), so that a
//! later import tells the register's changes from an editor's; and the day
//! the register stopped listing it. And for a register fetched over
//! HTTP, what its server said of the copy last imported (`register_fetch`),
//! so that an unchanged register costs one request.

use sea_orm_migration::{prelude::*, schema::*};

use crate::kit::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &[(&str, &str)] = &[("imported", "TEXT"), ("withdrawn_on", "DATE")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            COLUMNS
                .iter()
                .map(|(name, kind)| {
                    format!("ALTER TABLE deployment_register_entry ADD COLUMN {name} {kind}")
                })
                .collect(),
        )
        .await?;
        let mut table = Table::create();
        table
            .table("register_fetch")
            .col(string("register").primary_key())
            .col(text("url"))
            .col(text_null("etag"))
            .col(string_null("last_modified"))
            .col(timestamp_with_time_zone("fetched_at"));
        manager.create_table(table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("register_fetch").to_owned())
            .await?;
        run_all(
            manager,
            COLUMNS
                .iter()
                .map(|(name, _)| {
                    format!("ALTER TABLE deployment_register_entry DROP COLUMN {name}")
                })
                .collect(),
        )
        .await
    }
}
