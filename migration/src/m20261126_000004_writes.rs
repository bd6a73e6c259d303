//! What writes need: a `version` on every record (a stale update is a
//! conflict, never a silent overwrite) and an `archived_at` (archiving hides
//! a record; nothing is deleted); the API keys writers authenticate with,
//! and the territories an editor's key covers; the audit trail of every
//! write; the idempotency keys that make a retried create safe.

use sea_orm_migration::{prelude::*, schema::*};

use crate::kit::{Tables, foreign_key, link_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every table of records (those with an `id`).
pub const RECORD_TABLES: &[&str] = &[
    "source",
    "network",
    "axis",
    "territory",
    "organization",
    "deployment",
    "deployment_organization",
    "domain",
    "technique",
    "risk_category",
    "deployment_risk",
    "concertation_programme",
    "programme_participation",
    "concertation",
    "contribution",
    "opportunity",
    "lever",
    "charter",
    "charter_signature",
    "study",
    "study_finding",
    "resource",
    "event",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite adds one at a time.
        for table in RECORD_TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(*table)
                        .add_column(integer("version").default(1))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(*table)
                        .add_column(timestamp_with_time_zone_null("archived_at"))
                        .to_owned(),
                )
                .await?;
        }

        let mut t = Tables::new(manager);

        // A key a writer sends as `Authorization: Bearer KEY`; only its
        // SHA-256 is kept.
        let mut table = Table::create();
        table
            .table("api_key")
            .col(big_pk_auto("id"))
            .col(text("label"))
            .col(text("role"))
            .col(text("prefix"))
            .col(text("hash"))
            .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
            .col(timestamp_with_time_zone_null("revoked_at"));
        t.create(table).await?;
        t.unique("api_key", &["hash"]).await?;

        // The territories an editor's key may write for.
        let mut table = link_table("api_key_territory");
        table
            .col(big_integer("api_key_id"))
            .col(big_integer("territory_id"))
            .primary_key(Index::create().col("api_key_id").col("territory_id"));
        foreign_key(&mut table, "api_key_id", "api_key");
        foreign_key(&mut table, "territory_id", "territory");
        t.create(table).await?;
        t.index("api_key_territory", &["territory_id"]).await?;

        // One write: who, when, what, and the record before and after.
        let mut table = Table::create();
        table
            .table("audit_event")
            .col(big_pk_auto("id"))
            .col(timestamp_with_time_zone("at").default(Expr::current_timestamp()))
            .col(big_integer_null("api_key_id"))
            .col(text("actor"))
            .col(text("action"))
            .col(text("record_type"))
            .col(big_integer("record_id"))
            .col(integer("version"))
            .col(text_null("before"))
            .col(text_null("after"));
        foreign_key(&mut table, "api_key_id", "api_key");
        t.create(table).await?;
        t.index("audit_event", &["record_type", "record_id"])
            .await?;
        t.index("audit_event", &["api_key_id"]).await?;

        // A create already done under a client's idempotency key.
        let mut table = link_table("idempotency_key");
        table
            .col(big_integer("api_key_id"))
            .col(text("key"))
            .col(text("operation"))
            .col(text("record_type"))
            .col(big_integer("record_id"))
            .primary_key(Index::create().col("api_key_id").col("key"));
        foreign_key(&mut table, "api_key_id", "api_key");
        t.create(table).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "idempotency_key",
            "audit_event",
            "api_key_territory",
            "api_key",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for table in RECORD_TABLES {
            for column in ["version", "archived_at"] {
                manager
                    .alter_table(Table::alter().table(*table).drop_column(column).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
