//! `source`: Where a fact comes from: a document, a web page, a dataset.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "source")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Title of the source.
    pub title: String,
    /// Who published it.
    pub publisher: Option<String>,
    /// Where it can be read.
    pub url: Option<String>,
    /// Name of the file as received, when the source is a document.
    pub document: Option<String>,
    /// When it was retrieved.
    pub retrieved_on: Option<Date>,
    /// The licence its content is published under.
    pub licence: Option<String>,
    /// The attribution its licence asks of those who reuse it.
    pub attribution: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
    // Lower-cased, accent-free copies, for case- and accent-insensitive matching.
    #[sea_orm(column_type = "Text")]
    pub title_folded: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub publisher_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(title => title_folded, publisher => publisher_folded);

/// How the source of synthetic records names its document: every
/// synthetic record points to such a source.
pub const SYNTHETIC_DOCUMENT_PREFIX: &str = "synthetic ";

/// Whether the database holds synthetic records (a source of synthetic
/// records): real and synthetic records never share a database.
pub async fn holds_synthetic(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let sources = Entity::find()
        .filter(Column::Document.starts_with(SYNTHETIC_DOCUMENT_PREFIX))
        .count(db)
        .await?;
    Ok(sources > 0)
}
