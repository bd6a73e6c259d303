//! Vigie's database migrations. They run at start-up (`vigie serve`) and on
//! demand (`vigie migrate`), identically on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

pub mod frozen;
mod kit;
mod m20261126_000001_domain_model;
mod m20261126_000002_folded_text;
mod m20261126_000003_search;
mod m20261126_000004_writes;
mod m20261126_000005_persisted_queries;
mod m20261126_000006_deployment_status_index;
mod m20261127_000007_data_version;
mod m20261127_000008_deployment_tally;
mod m20261127_000009_tally_per_statement;
mod m20261127_000010_persisted_query_age;
mod m20261207_000011_geography;
mod m20261207_000012_verbatim_sources;
mod m20261207_000013_link_sources;
mod m20261207_000014_public_bodies;
mod m20261207_000015_register_entries;
mod m20261207_000016_register_sync;
mod m20261207_000017_stated_risks;
mod m20261208_000018_announced_writes;

/// The tables whose writes move the data version on SQLite and are
/// announced on PostgreSQL (every table answers are made of), as the
/// migrations made their triggers.
pub fn versioned_tables() -> Vec<&'static str> {
    let mut tables = m20261127_000007_data_version::TABLES.to_vec();
    tables.extend(m20261207_000011_geography::TABLES);
    tables.extend(m20261207_000014_public_bodies::TABLES);
    tables.extend(m20261207_000015_register_entries::TABLES);
    tables
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_domain_model::Migration),
            Box::new(m20261126_000002_folded_text::Migration),
            Box::new(m20261126_000003_search::Migration),
            Box::new(m20261126_000004_writes::Migration),
            Box::new(m20261126_000005_persisted_queries::Migration),
            Box::new(m20261126_000006_deployment_status_index::Migration),
            Box::new(m20261127_000007_data_version::Migration),
            Box::new(m20261127_000008_deployment_tally::Migration),
            Box::new(m20261127_000009_tally_per_statement::Migration),
            Box::new(m20261127_000010_persisted_query_age::Migration),
            Box::new(m20261207_000011_geography::Migration),
            Box::new(m20261207_000012_verbatim_sources::Migration),
            Box::new(m20261207_000013_link_sources::Migration),
            Box::new(m20261207_000014_public_bodies::Migration),
            Box::new(m20261207_000015_register_entries::Migration),
            Box::new(m20261207_000016_register_sync::Migration),
            Box::new(m20261207_000017_stated_risks::Migration),
            Box::new(m20261208_000018_announced_writes::Migration),
        ]
    }
}
