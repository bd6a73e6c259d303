//! Persisted queries by age: registering one more forgets those past the
//! most recent N, newest first by registration time (then hash). This index
//! hands them over in that order, instead of sorting every registration.

use sea_orm_migration::prelude::*;

use crate::kit::{Tables, index_name};

const TABLE: &str = "persisted_query";
const COLUMNS: &[&str] = &["created_at", "hash"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Tables::new(manager).index(TABLE, COLUMNS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(index_name(TABLE, COLUMNS, false))
                    .table(TABLE)
                    .to_owned(),
            )
            .await
    }
}
