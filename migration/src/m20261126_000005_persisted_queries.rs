//! Automatic persisted queries: query texts clients registered by their
//! SHA-256, kept in the database so that every replica knows them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::kit::{Tables, link_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Tables::new(manager);
        // A query text, by the hex SHA-256 of its UTF-8 bytes.
        let mut table = link_table("persisted_query");
        table
            .col(text("hash"))
            .col(text("query"))
            .primary_key(Index::create().col("hash"));
        t.create(table).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("persisted_query").to_owned())
            .await
    }
}
