//! Public bodies beyond France: a territory's country (ISO 3166-1
//! alpha-2; every territory so far is French), and the official
//! identifiers it has in other schemes than the SIREN and INSEE code it
//! keeps in columns of its own (a Dutch municipality's `GM0363`, a GOV.UK
//! organisation slug…), each naming one territory.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    kit::{Tables, foreign_key, link_table, run_all},
    m20261207_000011_geography::version_triggers_of,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables this migration adds whose writes move the data version.
pub const TABLES: &[&str] = &["territory_identifier"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            vec!["ALTER TABLE territory ADD COLUMN country TEXT NOT NULL DEFAULT 'FR'".to_owned()],
        )
        .await?;
        let mut t = Tables::new(manager);
        t.index("territory", &["country"]).await?;

        // One identifier of one territory: unique in its scheme.
        let mut table = link_table("territory_identifier");
        table.col(string("scheme"));
        table.col(string("value"));
        table.col(big_integer("territory_id"));
        table.primary_key(Index::create().col("scheme").col("value"));
        foreign_key(&mut table, "territory_id", "territory");
        t.create(table).await?;
        t.index("territory_identifier", &["territory_id"]).await?;

        run_all(
            manager,
            version_triggers_of(manager.get_database_backend(), TABLES),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("territory_identifier").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(crate::kit::index_name("territory", &["country"], false))
                    .table("territory")
                    .to_owned(),
            )
            .await?;
        run_all(
            manager,
            vec!["ALTER TABLE territory DROP COLUMN country".to_owned()],
        )
        .await
    }
}
