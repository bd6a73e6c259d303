//! The official geography: a territory's official name, its département
//! and région as records of their own, the groupings (EPCI, EPT) it is a
//! member of, and a source's licence and attribution.
//!
//! A territory's `department_id` and `region_id` name territories (a
//! département's is itself, as a région's); `territory_membership` links a
//! grouping to each of its member communes: an EPCI may span départements,
//! so membership is a relation of its own, not a parent.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::kit::{Tables, foreign_key, index_name, link_table, run_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables this migration adds whose writes move the data version.
pub const TABLES: &[&str] = &["territory_membership"];

const BUMP: &str = "UPDATE data_version SET version = version + 1 WHERE id = 1";

/// The columns a territory gains: (name, PostgreSQL type, SQLite type).
const TERRITORY_COLUMNS: &[(&str, &str, &str)] = &[
    ("official_name", "TEXT", "TEXT"),
    (
        "department_id",
        "BIGINT REFERENCES territory (id) ON DELETE RESTRICT",
        "INTEGER REFERENCES territory (id) ON DELETE RESTRICT",
    ),
    (
        "region_id",
        "BIGINT REFERENCES territory (id) ON DELETE RESTRICT",
        "INTEGER REFERENCES territory (id) ON DELETE RESTRICT",
    ),
];

const SOURCE_COLUMNS: &[&str] = &["licence", "attribution"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut statements: Vec<String> = TERRITORY_COLUMNS
            .iter()
            .map(|(name, postgres, sqlite)| {
                let kind = if backend == DbBackend::Postgres {
                    postgres
                } else {
                    sqlite
                };
                format!("ALTER TABLE territory ADD COLUMN {name} {kind}")
            })
            .collect();
        statements.extend(
            SOURCE_COLUMNS
                .iter()
                .map(|name| format!("ALTER TABLE source ADD COLUMN {name} TEXT")),
        );
        run_all(manager, statements).await?;

        let mut t = Tables::new(manager);
        t.index("territory", &["department_id"]).await?;
        t.index("territory", &["region_id"]).await?;

        // A grouping (EPCI, EPT) and one of its member communes.
        let mut table = link_table("territory_membership");
        table.col(big_integer("grouping_id"));
        table.col(big_integer("member_id"));
        table.primary_key(Index::create().col("grouping_id").col("member_id"));
        foreign_key(&mut table, "grouping_id", "territory");
        foreign_key(&mut table, "member_id", "territory");
        t.create(table).await?;
        t.index("territory_membership", &["member_id"]).await?;

        run_all(manager, version_triggers(backend)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("territory_membership").to_owned())
            .await?;
        for column in ["department_id", "region_id"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(index_name("territory", &[column], false))
                        .table("territory")
                        .to_owned(),
                )
                .await?;
        }
        let mut statements: Vec<String> = TERRITORY_COLUMNS
            .iter()
            .map(|(name, _, _)| format!("ALTER TABLE territory DROP COLUMN {name}"))
            .collect();
        statements.extend(
            SOURCE_COLUMNS
                .iter()
                .map(|name| format!("ALTER TABLE source DROP COLUMN {name}")),
        );
        run_all(manager, statements).await
    }
}

/// The triggers that move the data version on writes to the new tables,
/// as migration 7 made them for the others.
fn version_triggers(backend: DbBackend) -> Vec<String> {
    version_triggers_of(backend, TABLES)
}

/// The triggers that move the data version on writes to `tables`, as
/// migration 7 made them for the others.
pub(crate) fn version_triggers_of(backend: DbBackend, tables: &[&str]) -> Vec<String> {
    tables
        .iter()
        .flat_map(|table| match backend {
            DbBackend::Postgres => vec![format!(
                "CREATE TRIGGER data_version_{table} \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()"
            )],
            _ => ["INSERT", "UPDATE", "DELETE"]
                .iter()
                .map(|event| {
                    format!(
                        "CREATE TRIGGER data_version_{table}_{} AFTER {event} ON {table} \
                         BEGIN {BUMP}; END",
                        event.to_lowercase()
                    )
                })
                .collect(),
        })
        .collect()
}
