//! The store: how records are written, whoever writes them — the API's
//! mutations, `vigie import`, the reference load, the synthetic seeding.
//! Transactions that queue on the data version, records as the audit trail
//! keeps them, and checks of values every writer applies. It uses the
//! entities, the database and the hub's error type; nothing of GraphQL or
//! HTTP.

pub mod bulk;
pub mod changes;
mod checks;
pub mod draft;
pub mod idempotency;
pub mod provenance;
pub mod write;

pub use checks::{Checks, MAX_LINE, MAX_TEXT};

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde::Serialize;

/// Starts a write. On SQLite the transaction takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that a write which reads first never fails when
/// another commits meanwhile; it waits for the lock instead. On PostgreSQL
/// writes to different records commit side by side: what two writes share
/// (a record's version, a tally row, a unique value) they take row by row.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// Who writes, as the audit trail names them, and when.
#[derive(Clone, Copy)]
pub struct Author<'a> {
    /// The API key it writes with; none for the hub's own writers.
    pub key: Option<i64>,
    /// The name the audit trail gives the writer: the key's label, or
    /// `reference load`, `seed-synthetic`, `import of FILE`, `import of the
    /// official geography`.
    pub label: &'a str,
    /// When it writes (the `created_at` and `updated_at` of bulk rows that
    /// do not bring their own).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// One event of the audit trail: `author` did `action` to record
/// `record_id` of `record_type`, which is now at `version`; the record
/// before (none for a creation) and after, as [`snapshot`] has them.
fn audit_event(
    author: Author<'_>,
    action: entity::enums::AuditAction,
    record_type: &str,
    record_id: i64,
    version: i32,
    before: Option<&serde_json::Value>,
    after: &serde_json::Value,
) -> entity::audit_event::ActiveModel {
    use sea_orm::Set;
    entity::audit_event::ActiveModel {
        at: Set(author.at),
        api_key_id: Set(author.key),
        actor: Set(author.label.to_owned()),
        action: Set(action),
        record_type: Set(record_type.to_owned()),
        record_id: Set(record_id),
        version: Set(version),
        before: Set(before.map(serde_json::Value::to_string)),
        after: Set(Some(after.to_string())),
        ..Default::default()
    }
}

/// A column every record table has (`id`, `version`, `created_at`,
/// `updated_at`, `archived_at`).
fn column<E: sea_orm::EntityTrait>(name: &str) -> E::Column {
    use std::str::FromStr;
    E::Column::from_str(name).unwrap_or_else(|_| panic!("every record table has a column {name}"))
}

/// A record as the audit trail keeps it: its stored fields, without the
/// folded copies kept for matching.
pub fn snapshot<M: Serialize>(model: &M) -> serde_json::Value {
    let mut value = serde_json::to_value(model).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(fields) = &mut value {
        fields.retain(|name, _| !name.ends_with("_folded"));
    }
    value
}

/// A record as the audit trail keeps it, with its lists of links.
pub fn snapshot_with<M: Serialize, const N: usize>(
    model: &M,
    lists: [(&str, serde_json::Value); N],
) -> serde_json::Value {
    let mut value = snapshot(model);
    if let serde_json::Value::Object(fields) = &mut value {
        for (name, list) in lists {
            fields.insert(name.into(), list);
        }
    }
    value
}

pub fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(text[5..].parse::<u8>(), Ok(1..=12))
}

/// Whether `text` is a SIREN: nine digits whose Luhn sum is a multiple of 10.
pub fn is_siren(text: &str) -> bool {
    if text.len() != 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = text
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sirens_need_nine_digits_and_their_luhn_key() {
        // SIREN of the Ville de Paris, and of the Métropole de Lyon.
        assert!(is_siren("217500016"));
        assert!(is_siren("200046977"));
        assert!(!is_siren("217500017"));
        assert!(!is_siren("21750001"));
        assert!(!is_siren("21750001a"));
    }

    #[test]
    fn months_are_year_and_month() {
        assert!(is_month("2024-01"));
        assert!(is_month("2024-12"));
        assert!(!is_month("2024-13"));
        assert!(!is_month("2024-1"));
        assert!(!is_month("24-01-01"));
    }
}
