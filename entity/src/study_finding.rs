//! `study_finding`: A finding of a study.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "study_finding")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub study_id: i64,
    pub kind: FindingKind,
    pub rank: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub statement: String,
    pub metric: Option<String>,
    pub value: Option<f64>,
    pub job_family: Option<String>,
    pub exposure_level: Option<ExposureLevel>,
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
    #[sea_orm(column_type = "Text")]
    pub job_family_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(statement => statement_folded, job_family => job_family_folded; searchable);
