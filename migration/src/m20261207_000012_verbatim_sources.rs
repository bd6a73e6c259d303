//! Sources quoted as they are: a territory keeps the source document's
//! wording of its name (`name_in_source`), and the network's contact
//! address, which was a person's, is removed from the record and from the
//! audit trail that copied it.

use sea_orm_migration::prelude::*;

use crate::kit::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Replaces the network's address in the audit trail's copies of its
/// record (`before`, `after`), then removes it from the record. A
/// redaction, not an edit: it moves no version.
fn redactions() -> Vec<String> {
    let address = "(SELECT contact_email FROM network WHERE network.id = audit_event.record_id)";
    let mut statements: Vec<String> = ["before", "after"]
        .iter()
        .map(|column| {
            format!(
                "UPDATE audit_event SET {column} = REPLACE({column}, {address}, '') \
                 WHERE record_type = 'Network' AND {column} IS NOT NULL \
                 AND {address} IS NOT NULL AND {address} <> ''"
            )
        })
        .collect();
    statements.push("UPDATE network SET contact_email = NULL".to_owned());
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements =
            vec!["ALTER TABLE territory ADD COLUMN name_in_source TEXT".to_owned()];
        statements.extend(redactions());
        run_all(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            vec!["ALTER TABLE territory DROP COLUMN name_in_source".to_owned()],
        )
        .await
    }
}
