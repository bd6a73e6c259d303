//! Folded copies of the text columns clients match words against: lower-
//! cased, accents stripped ([`crate::frozen::fold`]), so that `contains:
//! "securite"` finds « Sécurité » alike on SQLite and PostgreSQL. Existing
//! rows are folded here; new writes fold on save.

use crate::frozen::fold;
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table and the text columns that get a folded copy.
pub const FOLDED: &[(&str, &[&str])] = &[
    ("territory", &["name", "region"]),
    ("organization", &["name", "description"]),
    ("deployment", &["title", "summary", "purpose"]),
    ("concertation", &["title", "summary"]),
    ("contribution", &["statement"]),
    ("risk_category", &["title", "description"]),
    ("opportunity", &["title", "description"]),
    ("lever", &["title", "description"]),
    ("charter", &["title", "description"]),
    ("study", &["title", "description"]),
    ("study_finding", &["statement", "job_family"]),
    ("resource", &["title", "description"]),
    ("event", &["title", "location"]),
    ("domain", &["name"]),
    ("technique", &["name"]),
    ("source", &["title", "publisher"]),
    ("network", &["name"]),
    ("axis", &["title"]),
    ("concertation_programme", &["title"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in FOLDED {
            for column in *columns {
                manager
                    .alter_table(
                        Table::alter()
                            .table(*table)
                            .add_column(text_null(format!("{column}_folded")))
                            .to_owned(),
                    )
                    .await?;
            }
            let select = Query::select()
                .column("id")
                .columns(columns.iter().copied())
                .from(*table)
                .to_owned();
            for row in db.query_all(&select).await? {
                let id: i64 = row.try_get("", "id")?;
                let mut update = Query::update();
                update.table(*table).and_where(Expr::col("id").eq(id));
                for column in *columns {
                    let text: Option<String> = row.try_get("", column)?;
                    update.value(format!("{column}_folded"), text.as_deref().map(fold));
                }
                db.execute(&update).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in FOLDED {
            for column in *columns {
                // SQLite drops a column only where nothing depends on it,
                // which holds for these copies.
                db.execute_raw(Statement::from_string(
                    manager.get_database_backend(),
                    format!("ALTER TABLE \"{table}\" DROP COLUMN \"{column}_folded\""),
                ))
                .await?;
            }
        }
        Ok(())
    }
}
