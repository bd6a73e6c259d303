//! `contribution`: What a concertation raised.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "contribution")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub concertation_id: Option<i64>,
    pub programme_id: Option<i64>,
    pub kind: ContributionKind,
    pub rank: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub statement: String,
    pub salience: Option<i32>,
    pub public: Option<Public>,
    pub response_state: ResponseState,
    #[sea_orm(column_type = "Text")]
    pub response: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
    // Lower-cased, accent-free copies, for case- and accent-insensitive matching.
    #[sea_orm(column_type = "Text")]
    pub statement_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(statement => statement_folded; searchable);
