//! What a public register of algorithms says of a deployment: the entry it
//! has in each register (register, external id, address, publication and
//! revision dates, never confused with the month the use started), and
//! the deployment's legal basis and the language of its texts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    kit::{Tables, foreign_key, link_table, run_all},
    m20261207_000011_geography::version_triggers_of,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables this migration adds whose writes move the data version.
pub const TABLES: &[&str] = &["deployment_register_entry"];

const DEPLOYMENT_COLUMNS: &[&str] = &["legal_basis", "language"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            DEPLOYMENT_COLUMNS
                .iter()
                .map(|name| format!("ALTER TABLE deployment ADD COLUMN {name} TEXT"))
                .collect(),
        )
        .await?;
        // One entry of one register: unique in its register.
        let mut t = Tables::new(manager);
        let mut table = link_table("deployment_register_entry");
        table.col(string("register"));
        table.col(string("external_id"));
        table.col(big_integer("deployment_id"));
        table.col(text_null("url"));
        table.col(date_null("published_on"));
        table.col(date_null("revised_on"));
        table.primary_key(Index::create().col("register").col("external_id"));
        foreign_key(&mut table, "deployment_id", "deployment");
        t.create(table).await?;
        t.index("deployment_register_entry", &["deployment_id"])
            .await?;
        run_all(
            manager,
            version_triggers_of(manager.get_database_backend(), TABLES),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("deployment_register_entry").to_owned())
            .await?;
        run_all(
            manager,
            DEPLOYMENT_COLUMNS
                .iter()
                .map(|name| format!("ALTER TABLE deployment DROP COLUMN {name}"))
                .collect(),
        )
        .await
    }
}
