//! `concertation`: A citizen consultation on AI led by a territory.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "concertation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub territory_id: i64,
    pub programme_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub summary: Option<String>,
    pub status: ConcertationStatus,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub participant_count: Option<i32>,
    pub hours: Option<f64>,
    pub report_url: Option<String>,
    pub produced_local_charter: bool,
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
    pub summary_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(title => title_folded, summary => summary_folded; searchable);
