//! `resource`: A guide, sheet, report or template.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "resource")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub kind: ResourceKind,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub territory_id: Option<i64>,
    pub concertation_id: Option<i64>,
    pub source_id: Option<i64>,
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
    pub description_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(title => title_folded, description => description_folded; searchable);
