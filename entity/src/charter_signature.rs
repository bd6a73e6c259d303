//! `charter_signature`: Who signed a charter, and when.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charter_signature")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charter_id: i64,
    pub territory_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub signatory: Option<String>,
    pub signed_on: Option<Date>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
